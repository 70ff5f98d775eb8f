using EventSourced.Domain.Orders;

namespace EventSourced.Projections.Orders;

/// <summary>Patient corrections on the order summary (order status and worklist views read its details).</summary>
public partial class OrderSummaryProjection
{
    public OrderSummary Apply(OrderPatientDemographicsUpdated updated, OrderSummary summary) => summary with
    {
        PatientId = updated.Patient.PatientId,
        Details = summary.Details with
        {
            PatientId = updated.Patient.PatientId,
            PatientName = updated.Patient.PatientName ?? summary.Details.PatientName,
            PatientBirthDate = updated.Patient.PatientBirthDate,
            PatientSex = updated.Patient.PatientSex,
        },
        UpdatedAt = updated.UpdatedAt,
    };
}
