using EventSourced.Projections.Archive;
using EventSourced.Projections.Qido;
using EventSourced.Web.Tests.Support;
using Marten;

namespace EventSourced.Web.Tests.Archive;

/// <summary>
/// Document d's patient reads find the studies a correction assigned to the patient, and those studies' filings, through
/// indexes (docs/benchmarks.md, "Queries that grew with the archive"): each query is the shape ArchiveReader sends,
/// planned on a copy of its table grown to 20,000 studies of one tenant, where only an index avoids reading them all.
/// </summary>
public sealed class ArchiveLookupIndexTests(ServiceFixture fixture) : IClassFixture<ServiceFixture>
{
    private const string Tenant = "archive-lookup-indexes";
    private const int Rows = 20_000;

    [Fact]
    public async Task The_studies_assigned_to_a_patient_are_found_through_the_partial_index()
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        // One study in 1,000 assigned to another patient by a correction.
        var assigned = session.Query<QidoStudy>().Where(x => x.AssignedPatient != null && x.AssignedPatient.PatientId == "PAT-7000").Select(x => x.Id);
        const string studies = "case when n % 1000 = 0 then jsonb_build_object('AssignedPatient', jsonb_build_object('PatientId', 'PAT-' || n)) else '{}'::jsonb end";

        var plan = await QueryPlans.OnGrownCopyAsync(assigned, fixture.ConnectionString, "eventsourced.mt_doc_qidostudy", Tenant, Rows, studies);
        QueryPlans.AssertServedByIndexOn(plan, "((data -> 'AssignedPatient'::text) ->> 'PatientId'::text) = ");
    }

    [Fact]
    public async Task The_filings_of_moved_studies_are_found_by_their_study_streams()
    {
        await using var session = fixture.App.Store.QuerySession(Tenant);
        var moved = new[] { Guid.NewGuid(), Guid.NewGuid() };
        // Every study filed in the same project and archive: the lookup's composite prefix selects them all.
        var filings = session.Query<ArchiveStudy>().Where(x => x.Project == "P" && x.Archive == "A" && x.StudyKey.IsOneOf(moved));
        const string studies = "jsonb_build_object('Project', 'P', 'Archive', 'A', 'PatientId', 'PAT-' || (n % 500), 'StudyInstanceUid', '2.25.' || n, 'StudyKey', gen_random_uuid())";

        var plan = await QueryPlans.OnGrownCopyAsync(filings, fixture.ConnectionString, "eventsourced.mt_doc_archivestudy", Tenant, Rows, studies,
            ("project", "'P'"), ("archive", "'A'"), ("patient_id", "'PAT-' || (n % 500)"), ("study_instance_uid", "'2.25.' || n"));
        QueryPlans.AssertServedByIndexOn(plan, "(data ->> 'StudyKey'::text)");
    }
}
