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

    /// <summary>The patient was erased: the details lose who the patient was, the metadata values are erased (as the masked events say).</summary>
    public OrderSummary? Apply(OrderPatientErased erased, OrderSummary summary) => summary.Details is null ? null : summary with
    {
        PatientId = OrderDetails.Erased,
        Details = summary.Details.WithPersonalDataErased(),
        Metadata = summary.Metadata.ToDictionary(m => m.Key, _ => System.Text.Json.JsonSerializer.SerializeToElement(OrderDetails.Erased), Order.MetadataNameComparer),
        UpdatedAt = erased.ErasedAt,
    };
}
