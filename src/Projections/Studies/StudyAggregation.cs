using EventSourced.Domain.Studies;
using Marten.Events.Aggregation;

namespace EventSourced.Projections.Studies;

/// <summary>Live aggregation of the study stream for the write side (see OrderAggregation for why it lives here).</summary>
public partial class StudyAggregation : SingleStreamProjection<Study, Guid>
{
    public static Study Create(InstanceStored stored) => Study.Create(stored);

    public Study Apply(InstanceStored stored, Study study) => study.Apply(stored);

    public static Study Create(InstancesStored stored) => Study.Create(stored);

    public Study Apply(InstancesStored stored, Study study) => study.Apply(stored);

    public Study Apply(InstanceReplaced replaced, Study study) => study.Apply(replaced);

    public Study Apply(InstanceErased erased, Study study) => study.Apply(erased);

    public Study Apply(Domain.Archive.InstanceFiledInArchive filed, Study study) => study.Apply(filed);

    public Study Apply(SlideFileStored stored, Study study) => study.Apply(stored);
}

/// <summary>Patient corrections of the study stream (StudyCorrectionEvents.cs).</summary>
public partial class StudyAggregation
{
    public Study Apply(StudyPatientAssigned assigned, Study study) => study.Apply(assigned);
}

/// <summary>Storage relocations of the study stream (StudyStorage.cs).</summary>
public partial class StudyAggregation
{
    public Study Apply(StudyRelocated relocated, Study study) => study.Apply(relocated);
}
