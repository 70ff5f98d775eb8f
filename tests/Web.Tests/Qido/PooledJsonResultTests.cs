using System.Text.Json;
using System.Text.Json.Nodes;
using EventSourced.Web.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace EventSourced.Web.Tests.Qido;

/// <summary>QIDO's answers go out through a pooled, growing buffer: the bytes must be those the serialiser wrote before.</summary>
public sealed class PooledJsonResultTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(150)] // about 100 KB: the buffer grows several times past its first 16 KB
    [InlineData(2000)]
    public async Task The_answer_is_byte_for_byte_the_serialised_array_with_its_length(int matches)
    {
        var answer = new JsonArray();
        for (var i = 0; i < matches; i++)
        {
            answer.Add(new JsonObject
            {
                ["0020000D"] = new JsonObject { ["vr"] = "UI", ["Value"] = new JsonArray($"1.2.826.0.1.3680043.10.543.{i}") },
                ["00100010"] = new JsonObject { ["vr"] = "PN", ["Value"] = new JsonArray(new JsonObject { ["Alphabetic"] = $"Désirée<&>^{new string('x', i % 700)}" }) },
                ["00201208"] = new JsonObject { ["vr"] = "IS", ["Value"] = new JsonArray(i) },
            });
        }

        var expected = JsonSerializer.SerializeToUtf8Bytes(answer);
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;

        await new PooledJsonResult(writer => answer.WriteTo(writer), "application/dicom+json").ExecuteAsync(context);

        Assert.Equal(expected, body.ToArray());
        Assert.Equal(expected.Length, context.Response.ContentLength);
        Assert.Equal("application/dicom+json", context.Response.ContentType);
    }
}
