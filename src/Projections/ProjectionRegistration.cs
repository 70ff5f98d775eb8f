using EventSourced.Projections.Access;
using EventSourced.Projections.Archive;
using EventSourced.Projections.Blobs;
using EventSourced.Projections.Forwarding;
using EventSourced.Projections.Orders;
using EventSourced.Projections.Pathology;
using EventSourced.Projections.Patients;
using EventSourced.Projections.Qido;
using EventSourced.Projections.Reports;
using EventSourced.Projections.Storage;
using EventSourced.Projections.Studies;
using EventSourced.Projections.StudyFeed;
using EventSourced.Projections.Tenants;
using Marten;

namespace EventSourced.Projections;

/// <summary>
/// Every area of the event store, composed: each folder of Projections registers its read models, live
/// aggregations, event types and erasure rules with one <c>Add&lt;Area&gt;Projections</c> in its own
/// <c>&lt;Area&gt;Registration.cs</c>; a new area adds its call here.
/// </summary>
public static class ProjectionRegistration
{
    public static StoreOptions AddProjections(this StoreOptions options, StudyFeedSignal studyFeedSignal)
    {
        options.AddTenantProjections();
        options.AddOrderProjections();
        options.AddReportProjections();
        options.AddStudyProjections();
        options.AddStorageProjections();
        options.AddBlobProjections();
        options.AddQidoProjections();
        options.AddPatientProjections();
        options.AddArchiveProjections();
        options.AddPathologyProjections();
        options.AddAccessProjections();
        options.AddForwardingProjections();
        options.AddStudyFeedProjections(studyFeedSignal);
        return options;
    }
}
