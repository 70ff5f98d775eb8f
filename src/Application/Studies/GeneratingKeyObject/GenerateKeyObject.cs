using EventSourced.Application.Studies.KeyObjects;
using EventSourced.Dicom;
using EventSourced.Domain.Studies;
using Marten;

namespace EventSourced.Application.Studies.GeneratingKeyObject;

/// <summary>Build the study's manifest KOS (every visible instance) without storing it: nothing is appended.</summary>
public sealed record GenerateKeyObject(string StudyInstanceUid);

/// <summary>The KOS's SOP Instance UID and DICOM Part 10 bytes, or both null when the study has no visible instance.</summary>
public sealed record GeneratedKeyObject(string? SopInstanceUid, byte[]? Bytes);

public static class GenerateKeyObjectHandler
{
    public static async Task<GeneratedKeyObject> Handle(GenerateKeyObject command, IQuerySession session, TimeProvider clock, CancellationToken cancellation)
    {
        var streamId = Study.StreamId(session.TenantId, command.StudyInstanceUid);
        var study = await session.Events.AggregateStreamAsync<Study>(streamId, token: cancellation);
        if (study is null)
        {
            return new GeneratedKeyObject(null, null);
        }

        var history = await StudyHistory.LoadAsync(session, streamId, cancellation);
        var request = StudyManifest.For(study, history, DicomUid.Generate(), DicomUid.Generate(), clock.GetUtcNow());
        return request is null ? new GeneratedKeyObject(null, null) : new GeneratedKeyObject(request.SopInstanceUid, KeyObjectSelection.Build(request));
    }
}
