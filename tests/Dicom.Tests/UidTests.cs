using System.Text.Json;

namespace EventSourced.Dicom.Tests;

public class UidTests
{
    private static readonly string[] Candidates =
    [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.50", "0", "0.1", "1.0.2", "1.2.3.04", "01.2", "1..2", ".1.2", "1.2.",
        "1.2.3a", "1.2 .3", "", "2.25.255062519071621615543993246072227046960",
        "1." + new string('1', 62), "1." + new string('1', 63), "1.2.840.10008.5.1.4.1.1.2\0",
    ];

    [Fact]
    public void Validation_agrees_with_pydicom()
    {
        const string script = "import sys, json\nfrom pydicom.uid import UID\nprint(json.dumps([UID(u).is_valid for u in json.loads(sys.argv[1])]))";
        var theirs = JsonSerializer.Deserialize<bool[]>(Oracles.Python3(script, JsonSerializer.Serialize(Candidates)))!;
        Assert.Equal(theirs, Candidates.Select(DicomUid.IsValid).ToArray());
    }

    [Fact]
    public void A_guid_maps_to_2_25_as_python_computes_the_uuid_integer()
    {
        var guids = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).Append(Guid.Empty).Append(Guid.AllBitsSet).ToArray();
        const string script = "import sys, json, uuid\nprint(json.dumps(['2.25.' + str(uuid.UUID(g).int) for g in json.loads(sys.argv[1])]))";
        var theirs = JsonSerializer.Deserialize<string[]>(Oracles.Python3(script, JsonSerializer.Serialize(guids.Select(g => g.ToString()))))!;
        Assert.Equal(theirs, guids.Select(DicomUid.FromGuid).ToArray());
    }

    [Fact]
    public void Generated_uids_are_valid_unique_and_under_the_root()
    {
        var made = Enumerable.Range(0, 500).Select(_ => DicomUid.Generate()).Concat(Enumerable.Range(0, 500).Select(_ => DicomUid.Generate("1.2.826.0.1.3680043.10.999"))).ToList();
        Assert.All(made, u => Assert.True(DicomUid.IsValid(u), u));
        Assert.Equal(made.Count, made.Distinct().Count());
        Assert.All(made.Skip(500), u => Assert.StartsWith("1.2.826.0.1.3680043.10.999.", u));
        Assert.Throws<ArgumentException>(() => DicomUid.Generate("1.02"));
    }
}
