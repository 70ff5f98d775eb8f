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
}

public partial class StudyOrderRegisterAggregation : SingleStreamProjection<StudyOrderRegister, Guid>
{
    public static StudyOrderRegister Create(OrderBookedForStudy booked) => StudyOrderRegister.Create(booked);

    public StudyOrderRegister Apply(OrderBookedForStudy booked, StudyOrderRegister register) => register.Apply(booked);

    public StudyOrderRegister Apply(StudyOrderReleased released, StudyOrderRegister register) => register.Apply(released);
}
