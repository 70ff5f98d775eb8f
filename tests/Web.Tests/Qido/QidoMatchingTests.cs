using System.Net;
using static EventSourced.Web.Tests.Qido.QidoFixture;

namespace EventSourced.Web.Tests.Qido;

/// <summary>Each kind of matching of PS3.4 C.2.2.2 as PS3.18 §8.3.4 offers it, on the fixture's archive.</summary>
[Collection(QidoCollection.Name)]
public sealed class QidoMatchingTests(QidoFixture fixture)
{
    private static string Expand(string text) => text
        .Replace("{A}", StudyA, StringComparison.Ordinal).Replace("{B}", StudyB, StringComparison.Ordinal)
        .Replace("{C}", StudyC, StringComparison.Ordinal).Replace("{CT}", CorpusStudy, StringComparison.Ordinal)
        .Replace("{A1}", SeriesA1, StringComparison.Ordinal).Replace("{A2}", SeriesA2, StringComparison.Ordinal)
        .Replace("{B1}", SeriesB1, StringComparison.Ordinal).Replace("{C1}", SeriesC1, StringComparison.Ordinal);

    private async Task Expect(string url, string tag, string expected)
    {
        var (response, body) = await fixture.Client.QidoAsync(Expand(url));
        var want = expected.Length == 0 ? [] : Expand(expected).Split(' ').Order().ToArray();
        if (want.Length == 0)
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(want, body.Values(tag).Order().ToArray());
    }

    [Theory]
    [InlineData("PatientID=P1", "{A}")]
    [InlineData("00100020=P2", "{B}")]
    [InlineData("AccessionNumber=ACC1", "{A}")]
    [InlineData("StudyID=S1", "{A}")]
    [InlineData("PatientSex=M", "{A}")]
    [InlineData("PatientBirthDate=19700101", "{A}")]
    [InlineData("InstitutionName=General%20Hospital", "{A}")]
    [InlineData("StudyDescription=CT%20HEAD", "{A}")]
    [InlineData("ReferringPhysicianName=Ref^Doc", "{A}")]
    [InlineData("NumberOfStudyRelatedSeries=2", "{A}")]
    [InlineData("NumberOfStudyRelatedInstances=2", "{B}")]
    [InlineData("PatientID=p1", "")]
    public async Task Single_value_matching(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("StudyInstanceUID={A},{B}", "{A} {B}")]
    [InlineData("StudyInstanceUID={A}\\{C}", "{A} {C}")]
    [InlineData("0020000D={B}", "{B}")]
    [InlineData("StudyInstanceUID=1.2.3,{CT}", "{CT}")]
    public async Task Uid_list_matching(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("PatientID=P*", "{A} {B} {C}")]
    [InlineData("PatientID=*1", "{A} {CT}")]
    [InlineData("PatientID=P?", "{A} {B} {C}")]
    [InlineData("PatientName=D?e*", "{B}")]
    [InlineData("PatientName=*ller*", "{A}")]
    [InlineData("AccessionNumber=X_1%25", "{C}")]
    [InlineData("AccessionNumber=X?1*", "{C}")]
    [InlineData("AccessionNumber=XA1*", "")]
    [InlineData("AccessionNumber=ACC%25", "")]
    [InlineData("StudyDescription=*HEAD", "{A}")]
    public async Task Wildcard_matching_with_like_metacharacters_taken_literally(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("StudyDate=20240101-20241231", "{A} {B}")]
    [InlineData("StudyDate=20240301-", "{B}")]
    [InlineData("StudyDate=-20231231", "{C} {CT}")]
    [InlineData("StudyDate=20240110", "{A}")]
    [InlineData("StudyTime=2200-2359", "{B}")]
    [InlineData("StudyTime=10", "{A}")]
    [InlineData("StudyTime=101500", "{A}")]
    [InlineData("StudyTime=-0800", "{CT}")]
    [InlineData("StudyDate=20240101-&StudyTime=11-", "{B}")]
    [InlineData("PatientBirthDate=19000101-19991231", "{A}")]
    public async Task Date_and_time_range_matching(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("AcquisitionDateTime=20240305-20240306", "{B1}.1 {B1}.2")]
    [InlineData("AcquisitionDateTime=20240305120002-", "{B1}.2")]
    [InlineData("AcquisitionDateTime=-20240305120001", "{B1}.1")]
    [InlineData("AcquisitionDateTime=2024", "{B1}.1 {B1}.2")]
    [InlineData("AcquisitionDateTime=2023", "")]
    public async Task Date_time_range_matching_at_instance_level(string query, string instances) =>
        await Expect($"/dicomweb/instances?{query}", "00080018", instances);

    [Theory]
    [InlineData("PatientName=muller&fuzzymatching=true", "{A}")]
    [InlineData("PatientName=MÜLLER&fuzzymatching=true", "{A}")]
    [InlineData("PatientName=jurg&fuzzymatching=true", "{A}")]
    [InlineData("PatientName=jurgen^muller&fuzzymatching=true", "{A}")]
    [InlineData("PatientName=john&fuzzymatching=true", "{B}")]
    [InlineData("PatientName=ohn&fuzzymatching=true", "")]
    [InlineData("PatientName=muller&fuzzymatching=false", "")]
    [InlineData("PatientName=muller", "")]
    [InlineData("ReferringPhysicianName=doc&fuzzymatching=true", "{A}")]
    public async Task Fuzzy_person_name_matching_ignores_case_and_accents_and_matches_word_starts(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("ModalitiesInStudy=MR", "{A} {B}")]
    [InlineData("ModalitiesInStudy=CT,US", "{A} {C} {CT}")]
    [InlineData("ModalitiesInStudy=U*", "{C}")]
    [InlineData("ModalitiesInStudy=XA", "")]
    [InlineData("StationName=CT01_OC0", "{CT}")]
    public async Task List_attributes_match_any_of_their_values(string query, string studies) =>
        await Expect($"/dicomweb/studies?{query}", "0020000D", studies);

    [Theory]
    [InlineData("/dicomweb/series?Modality=CT", "{A1} 1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322")]
    [InlineData("/dicomweb/series?Modality=CT&PatientID=P1", "{A1}")]
    [InlineData("/dicomweb/series?Modality=CT,MR&StudyDate=20240101-", "{A1} {A2} {B1}")]
    [InlineData("/dicomweb/series?SeriesNumber=7", "{B1}")]
    [InlineData("/dicomweb/series?NumberOfSeriesRelatedInstances=2", "{B1}")]
    [InlineData("/dicomweb/series?SeriesDescription=Ax*", "{A1}")]
    [InlineData("/dicomweb/series?PerformedProcedureStepStartDate=20240110", "{A1}")]
    [InlineData("/dicomweb/series?SeriesInstanceUID={A2},{C1}", "{A2} {C1}")]
    [InlineData("/dicomweb/studies/{A}/series?Modality=MR", "{A2}")]
    [InlineData("/dicomweb/studies/{B}/series?Modality=CT", "")]
    [InlineData("/dicomweb/series?Manufacturer=GE*", "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322")]
    public async Task Series_level_matching_with_study_level_keys(string url, string series) =>
        await Expect(url, "0020000E", series);

    [Theory]
    [InlineData("/dicomweb/studies/{A}/series/{A1}/instances?InstanceNumber=2", "{A1}.2")]
    [InlineData("/dicomweb/studies/{A}/instances?Modality=MR", "{A2}.1")]
    [InlineData("/dicomweb/instances?SOPInstanceUID={A1}.1,{B1}.2", "{A1}.1 {B1}.2")]
    [InlineData("/dicomweb/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.2&PatientID=P3", "{C1}.1")]
    [InlineData("/dicomweb/instances?PatientName=Smith*&Modality=US&InstanceNumber=", "{C1}.1")]
    [InlineData("/dicomweb/instances?ImageType=ORIGINAL", "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322")]
    [InlineData("/dicomweb/studies/{B}/series/{A1}/instances", "")]
    public async Task Instance_level_matching_with_series_and_study_keys(string url, string instances) =>
        await Expect(url, "00080018", instances);
}
