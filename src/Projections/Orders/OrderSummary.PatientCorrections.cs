using EventSourced.Domain.Orders;

namespace EventSourced.Projections.Orders;

/// <summary>Patient corrections on the order summary (order status and worklist views read its details).</summary>
public partial class OrderSummaryProjection
{
    // An order stream always starts with OrderCreated; null (no document) for a stream that did not.
    public OrderSummary? Apply(OrderPatientDemographicsUpdated updated, OrderSummary summary) => summary.Details is null ? null : summary with
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
