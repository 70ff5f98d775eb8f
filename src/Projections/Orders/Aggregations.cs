using EventSourced.Domain.Orders;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Orders;

// Live aggregations of the write-side aggregates. The aggregates and their Apply methods live in the
// pure Domain project; these partial classes only point Marten's source generator at them, so the
// generated evolvers live here and Domain keeps no framework reference (docs/architecture.md).

public partial class OrderAggregation : SingleStreamProjection<Order, Guid>
{
    public static Order Create(OrderCreated created) => Order.Create(created);

    public Order Apply(OrderMetadataAdded added, Order order) => order.Apply(added);

    public Order Apply(OrderFailed failed, Order order) => order.Apply(failed);

    public Order Apply(OrderDeleted deleted, Order order) => order.Apply(deleted);

    public Order Apply(OrderImagesArrived arrived, Order order) => order.Apply(arrived);

    public Order Apply(OrderProcedureStepStarted started, Order order) => order.Apply(started);

    public Order Apply(OrderProcedureStepCompleted completed, Order order) => order.Apply(completed);

    public Order Apply(OrderProcedureStepCanceled canceled, Order order) => order.Apply(canceled);

    public Order Apply(OrderCancellationRequested requested, Order order) => order.Apply(requested);
}

public partial class StudyOrderRegisterAggregation : SingleStreamProjection<StudyOrderRegister, Guid>
{
    public static StudyOrderRegister Create(OrderBookedForStudy booked) => StudyOrderRegister.Create(booked);

    public static StudyOrderRegister Create(StudyImagesArrived arrived) => StudyOrderRegister.Create(arrived);

    public StudyOrderRegister Apply(StudyImagesArrived arrived, StudyOrderRegister register) => register.Apply(arrived);

    public StudyOrderRegister Apply(OrderBookedForStudy booked, StudyOrderRegister register) => register.Apply(booked);

    public StudyOrderRegister Apply(StudyOrderReleased released, StudyOrderRegister register) => register.Apply(released);
}
