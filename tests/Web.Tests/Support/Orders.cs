using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EventSourced.Web.Tests.Support;

/// <summary>Order requests as the PACS document's example has them, with a unique StudyInstanceUID per call.</summary>
public static class Orders
{
    private static long counter = DateTime.UtcNow.Ticks;

    public static string NewStudyUid() => $"1.2.826.0.1.3680043.10.1234.{Interlocked.Increment(ref counter)}";

    /// <summary>The document's example body (all 26 fields), with the given StudyInstanceUID.</summary>
    public static JsonObject ExampleBody(string studyUid) => new()
    {
        ["ScheduledStationAETitle"] = "STATION-AET",
        ["ScheduledProcedureStepStartDate"] = "20221205",
        ["ScheduledProcedureStepStartTime"] = "155430",
        ["Modality"] = "CT",
        ["ScheduledPerformingPhysiciansName"] = "TEST",
        ["ScheduledProcedureStepDescription"] = "Procedure step description",
        ["ScheduledProcedureStepID"] = "1234",
        ["RequestedProcedureDescription"] = "Procedure description",
        ["RequestedProcedureID"] = "4567",
        ["StudyInstanceUID"] = studyUid,
        ["AccessionNumber"] = "AN123",
        ["RequestingPhysician"] = "REQUESTING^PHYSICIAN",
        ["ReferringPhysicianName"] = "REFERRING^PHYSICIAN",
        ["AdmissionID"] = "789",
        ["CurrentPatientLocation"] = "bar",
        ["PatientName"] = "SURNAME^NAME",
        ["PatientID"] = "NONE",
        ["PatientBirthDate"] = "19860130",
        ["PatientSex"] = "M",
        ["ConfidentialityConstraintOnPatientDataDescription"] = "No constraint",
        ["PatientState"] = "Some state",
        ["PregnancyStatus"] = "Some status",
        ["MedicalAlerts"] = "Some medical alert",
        ["PlacerOrderNumberImagingServiceRequest"] = "2345566",
        ["ServiceEpisodeID"] = "episode id",
        ["ScheduledStationName"] = "STATION-NAME",
    };

    /// <summary>Only the nine mandatory fields: PatientBirthDate and PatientSex (required metadata by default) are missing.</summary>
    public static JsonObject MandatoryOnly(string studyUid)
    {
        var body = ExampleBody(studyUid);
        foreach (var optional in new[]
                 {
                     "ScheduledPerformingPhysiciansName", "ScheduledProcedureStepID", "RequestedProcedureDescription", "RequestedProcedureID",
                     "RequestingPhysician", "ReferringPhysicianName", "AdmissionID", "CurrentPatientLocation", "PatientBirthDate", "PatientSex",
                     "ConfidentialityConstraintOnPatientDataDescription", "PatientState", "PregnancyStatus", "MedicalAlerts",
                     "PlacerOrderNumberImagingServiceRequest", "ServiceEpisodeID", "ScheduledStationName",
                 })
        {
            body.Remove(optional);
        }

        return body;
    }

    public static Task<HttpResponseMessage> CreateAsync(this HttpClient client, JsonObject body) =>
        client.PostAsync("/o3-dpacs-wado/orders/create", Json.Body(body.ToJsonString()));

    public static async Task<Guid> CreateOkAsync(this HttpClient client, JsonObject body)
    {
        var response = await client.CreateAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.GetProperty("orderId").GetGuid();
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<string> StatusOfAsync(this HttpClient client, Guid orderId)
    {
        var (status, body) = await client.GetJsonAsync($"/status?order_id={orderId}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("status").GetString()!;
    }
}
