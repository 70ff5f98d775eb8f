using EventSourced.Domain.Common;
using EventSourced.Domain.Patients;

namespace EventSourced.Domain.Orders;

/// <summary>
/// The order's patient demographics were corrected (document e <c>patients/update</c>: "Orders relative
/// to the specified patient will also be updated"). On the order stream; the order's details show them.
/// </summary>
public sealed record OrderPatientDemographicsUpdated(Guid OrderId, PatientDemographics Patient, Actor UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>The order's patient was erased (right to be forgotten): its details keep the order and lose who the patient was (<see cref="OrderDetails.WithPersonalDataErased"/>).</summary>
public sealed record OrderPatientErased(Guid OrderId, Guid ErasureId, Actor ErasedBy, DateTimeOffset ErasedAt);
