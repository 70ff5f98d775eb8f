using System.Collections.Immutable;
using EventSourced.Domain.Common;

namespace EventSourced.Domain.Tenants;

// The tenant registry: one stream per tenant (organization), kept in the store's default tenant because
// it is what decides which tenant a request belongs to. Secrets never enter an event: only their
// SHA-256 hash (API keys are 256-bit random values, so a fast hash is not guessable; see
// docs/architecture.md, "Identity and access").

public sealed record TenantRegistered(Guid TenantStreamId, string TenantId, string DisplayName, Actor RegisteredBy, DateTimeOffset RegisteredAt);

public sealed record ApiKeyIssued(
    Guid TenantStreamId,
    string TenantId,
    string KeyId,
    string KeyHash,
    string Subject,
    IReadOnlyList<string> Scopes,
    Actor IssuedBy,
    DateTimeOffset IssuedAt);

public sealed record ApiKeyRevoked(Guid TenantStreamId, string TenantId, string KeyId, Actor RevokedBy, DateTimeOffset RevokedAt);

/// <summary>An OAuth2 client (client credentials grant, documents a and b). The secret is 256 random bits: SHA-256 only.</summary>
public sealed record OAuthClientRegistered(
    Guid TenantStreamId,
    string TenantId,
    string ClientId,
    string SecretHash,
    IReadOnlyList<string> Scopes,
    Actor RegisteredBy,
    DateTimeOffset RegisteredAt);

public sealed record OAuthClientRevoked(Guid TenantStreamId, string TenantId, string ClientId, Actor RevokedBy, DateTimeOffset RevokedAt);

/// <summary>
/// An X-USERNAME/X-PASSWORD user (document d). Usernames are unique across tenants (the headers name no
/// tenant). The password may be chosen by a person, so it is stored as a slow salted hash with its
/// parameters (<c>pbkdf2-sha256$iterations$salt$hash</c>).
/// </summary>
public sealed record ArchiveUserRegistered(
    Guid TenantStreamId,
    string TenantId,
    string Username,
    string PasswordHash,
    IReadOnlyList<string> Permissions,
    Actor RegisteredBy,
    DateTimeOffset RegisteredAt);

public sealed record Tenant(Guid Id, string TenantId, string DisplayName, ImmutableDictionary<string, bool> KeysActive)
{
    private static readonly Guid Namespace = new("0b7c3f52-55a4-4d0f-9c0e-2f7d3d1c8e21");

    public static Guid StreamId(string tenantId) => DeterministicGuid.Create(Namespace, tenantId);

    public static Tenant Create(TenantRegistered registered) =>
        new(registered.TenantStreamId, registered.TenantId, registered.DisplayName, ImmutableDictionary<string, bool>.Empty);

    public Tenant Apply(ApiKeyIssued issued) => this with { KeysActive = KeysActive.SetItem(issued.KeyId, true) };

    public Tenant Apply(ApiKeyRevoked revoked) => this with { KeysActive = KeysActive.SetItem(revoked.KeyId, false) };

    /// <summary>OAuth2 client id → active.</summary>
    public ImmutableDictionary<string, bool> ClientsActive { get; init; } = ImmutableDictionary<string, bool>.Empty;

    public ImmutableHashSet<string> Users { get; init; } = [];

    public Tenant Apply(OAuthClientRegistered registered) => this with { ClientsActive = ClientsActive.SetItem(registered.ClientId, true) };

    public Tenant Apply(OAuthClientRevoked revoked) => this with { ClientsActive = ClientsActive.SetItem(revoked.ClientId, false) };

    public Tenant Apply(ArchiveUserRegistered registered) => this with { Users = Users.Add(registered.Username) };

    /// <summary>Tenant ids become part of URLs, logs and the store's tenant column: keep them plain.</summary>
    public static Rejection? ValidateTenantId(string tenantId) =>
        tenantId.Length is >= 1 and <= 64 && tenantId.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && char.IsAsciiLetterOrDigit(tenantId[0])
            ? null
            : Rejection.Invalid("A tenant id is 1 to 64 characters of lower-case letters, digits and '-', starting with a letter or digit.");

    public static Rejection? ValidateScopes(IEnumerable<string> scopes)
    {
        var unknown = scopes.Where(s => !Tenants.Scopes.All.Contains(s)).ToList();
        return unknown.Count == 0 ? null : Rejection.Invalid($"Unknown scope(s): {string.Join(", ", unknown)}.");
    }
}

/// <summary>The permissions a principal can hold. Every dialect's credentials map onto these.</summary>
public static class Scopes
{
    public const string OrdersRead = "orders.read";
    public const string OrdersWrite = "orders.write";

    /// <summary>Query and retrieve studies (QIDO-RS, WADO-RS and the dialects' equivalents).</summary>
    public const string StudiesRead = "studies.read";

    /// <summary>Store instances (STOW-RS and the dialects' uploads).</summary>
    public const string StudiesWrite = "studies.write";

    /// <summary>Read delivered reports and results (document a's /results, /report, /reports; document d's results and forms).</summary>
    public const string ReportsRead = "reports.read";

    /// <summary>Deliver reports and algorithm results (the producing side: AI pipeline, reporting system).</summary>
    public const string ReportsWrite = "reports.write";

    /// <summary>Query the worklist (document c's GET /workitems, UPS-RS search and retrieve).</summary>
    public const string WorklistRead = "worklist.read";

    /// <summary>Create, change and cancel workitems (document c's POST/DELETE /workitems, UPS-RS state changes).</summary>
    public const string WorklistWrite = "worklist.write";

    /// <summary>Tenant administration: order history, callbacks received, dead letters, users and clients.</summary>
    public const string Admin = "admin";

    /// <summary>Audit: the history of studies, patients and orders, and their state as of a time (our own routes under /audit).</summary>
    public const string AuditRead = "audit.read";

    /// <summary>
    /// Erase a patient's personal data (right to be forgotten; our own route <c>POST /admin/patients/erase</c>).
    /// The strongest scope: irreversible, so no other scope implies it and it is granted on its own.
    /// </summary>
    public const string PatientsErase = "patients.erase";

    public static readonly ImmutableHashSet<string> All =
        [OrdersRead, OrdersWrite, StudiesRead, StudiesWrite, ReportsRead, ReportsWrite, WorklistRead, WorklistWrite, Admin, AuditRead, PatientsErase, .. Archive.All];

    /// <summary>
    /// Document d's per-call permissions (archive API v1), held as scopes of the one principal. An
    /// X-USERNAME user holds some of these; an API key or OAuth2 client may hold them too.
    /// </summary>
    public static class Archive
    {
        public const string UploadProject = "upload_project";
        public const string InstanceUpload = "api_instance_upload";
        public const string GetPatient = "api_get_patient";
        public const string DeletePatient = "api_delete_patient";
        public const string GetStudy = "api_get_study";
        public const string ListStudies = "api_list_studies";
        public const string DeleteStudy = "api_delete_study";
        public const string GetSeries = "api_get_series";
        public const string ListSeries = "api_list_series";
        public const string DicomGet = "api_dicom_get";
        public const string DeleteSeries = "api_delete_series";
        public const string SeriesResults = "api_series_results";
        public const string ListForms = "api_list_forms";
        public const string AddFormSubmission = "api_add_form_submission";

        public static readonly ImmutableHashSet<string> All =
        [
            UploadProject, InstanceUpload, GetPatient, DeletePatient, GetStudy, ListStudies, DeleteStudy,
            GetSeries, ListSeries, DicomGet, DeleteSeries, SeriesResults, ListForms, AddFormSubmission,
        ];
    }
}
