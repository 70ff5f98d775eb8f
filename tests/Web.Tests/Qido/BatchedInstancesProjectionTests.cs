using System.Text.Json;
using EventSourced.Dicom;
using EventSourced.Domain.Archive;
using EventSourced.Domain.Common;
using EventSourced.Domain.Studies;
using EventSourced.Domain.Patients;
using EventSourced.Projections.Archive;
using EventSourced.Projections.Patients;
using EventSourced.Projections.Qido;

namespace EventSourced.Web.Tests.Qido;

/// <summary>
/// A request's instances arrive as one <see cref="InstancesStored"/>. The study record applies them as one step and the
/// archive series inserts each into its sorted list (neither is quadratic in the instances of a request); both must
/// leave exactly what applying the instances one by one leaves, which is what the log's older single events give.
/// The sorted lists (an archive series' instances, a patient's studies) take a value in its place, once.
/// </summary>
public sealed class BatchedInstancesProjectionTests
{
    private static readonly Actor By = new("modality", "tests");
    private static readonly DateTimeOffset At = new(2026, 12, 7, 23, 30, 0, TimeSpan.Zero);

    /// <summary>Instances in two series whose headers disagree (the last stored wins), with calling AE titles and stations to collect.</summary>
    private static List<StoredInstance> Instances(string study, int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var series = $"{study}.{i % 2}";
            return QidoSupport.FromDataset(QidoSupport.Synthetic(study, series, $"{series}.{random.Next(100_000)}.{i}",
                    ("PatientID", DicomVR.LO, $"P{i % 3}"), ("PatientName", DicomVR.PN, $"Doe^Name{i}"), ("StudyDescription", DicomVR.LO, $"D{i}"),
                    ("Modality", DicomVR.CS, i % 2 == 0 ? "CT" : i < count / 2 ? "SR" : "PR"), ("StationName", DicomVR.SH, $"ST{i % 4}")),
                callingAe: i % 5 == 0 ? null : $"AE{i % 3}", stationName: i % 7 == 0 ? $"GW{i % 2}" : null, length: 1000 + i);
        })];
    }

    private static string Json(object document) => JsonSerializer.Serialize(document);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(40)]
    public void A_batch_projects_the_study_record_the_instances_one_by_one_do(int count)
    {
        const string study = "1.2.826.0.1.3680043.10.545.7001";
        var streamId = Guid.NewGuid();
        var projection = new QidoStudyProjection();
        var earlier = Instances(study, 3, seed: 1);
        var batch = Instances(study, count, seed: 100 + count);
        // One instance of the batch again, new bytes: its size replaces the earlier one's.
        batch.Add(earlier[1] with { Blob = earlier[1].Blob with { Length = 77_777 } });

        var first = new InstancesStored(streamId, earlier, By, At.AddMinutes(-5));
        var second = new InstancesStored(streamId, batch, By, At);

        var batched = projection.Apply(second, QidoStudyProjection.Create(first));

        var children = first.Children();
        var oneByOne = children.Skip(1).Aggregate(QidoStudyProjection.Create(children[0]), (s, c) => projection.Apply(c, s));
        oneByOne = second.Children().Aggregate(oneByOne, (s, c) => projection.Apply(c, s));

        Assert.Equal(Json(oneByOne), Json(batched));
        Assert.Equal(count + 3, batched.NumberOfStudyRelatedInstances);
        Assert.Equal("Doe^Name1", batched.PatientName); // the batch's last instance's
        Assert.Equal(earlier.Sum(i => i.Blob.Length) - earlier[1].Blob.Length + 77_777 + batch.Take(count).Sum(i => i.Blob.Length), batched.SizeInBytes);
    }

    [Fact]
    public void An_archive_series_lists_its_instances_sorted_and_once_whatever_the_order_they_are_filed_in()
    {
        var projection = new ArchiveSeriesProjection();
        var streamId = Guid.NewGuid();
        var uids = Enumerable.Range(0, 300).Select(i => $"1.2.3.{(i * 7919) % 1000}.{i % 13}").ToList();
        InstanceFiledInArchive Filed(string uid) =>
            new(streamId, "project", "archive", "P1", "1.2.3", "1.2.3.4", uid, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", By, At);

        var series = ArchiveSeriesProjection.Create(Filed(uids[0]));
        foreach (var uid in uids.Skip(1).Concat(uids.Take(50)))
        {
            series = projection.Apply(Filed(uid), series);
        }

        Assert.Equal(uids.Distinct().Order(StringComparer.Ordinal), series.Instances);
        var unchanged = projection.Apply(Filed(uids[17]), series);
        Assert.Same(series.Instances, unchanged.Instances);
    }

    [Fact]
    public void A_patient_lists_its_studies_sorted_and_once_whatever_the_order_they_are_linked_in()
    {
        var projection = new PatientRecordProjection();
        var patient = Guid.NewGuid();
        var studies = Enumerable.Range(0, 200).Select(i => $"1.2.826.0.1.{(i * 7919) % 500}.{i % 11}").ToList();
        var record = new PatientRecord { Id = patient, PatientId = "P1" };
        foreach (var study in studies.Concat(studies.Take(20)))
        {
            record = projection.Apply(new PatientStudyLinked(patient, study, null, By, At), record);
        }

        Assert.Equal(studies.Distinct().Order(StringComparer.Ordinal), record.StudyInstanceUids);
        record = projection.Apply(new PatientStudyUnlinked(patient, studies[3], null, By, At), record);
        Assert.Equal(studies.Distinct().Where(s => s != studies[3]).Order(StringComparer.Ordinal), record.StudyInstanceUids);
    }
}
