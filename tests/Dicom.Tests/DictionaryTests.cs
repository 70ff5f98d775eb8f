using System.Text.Json;

namespace EventSourced.Dicom.Tests;

public class DictionaryTests
{
    private sealed record PyEntry(string Tag, string VR, string VM, bool Retired, string Keyword);

    private static List<PyEntry> Pydicom()
    {
        const string script = """
            import json
            from pydicom.datadict import DicomDictionary, RepeatersDictionary
            out = [("%08X" % k, v[0], v[1], v[3] == 'Retired', v[4]) for k, v in DicomDictionary.items()]
            out += [(k.upper(), v[0], v[1], v[3] == 'Retired', v[4]) for k, v in RepeatersDictionary.items()]
            print(json.dumps(out))
            """;
        return [.. JsonSerializer.Deserialize<JsonElement[]>(Oracles.Python3(script, ""))!
            .Select(e => new PyEntry(e[0].GetString()!, e[1].GetString()!, e[2].GetString()!, e[3].GetBoolean(), e[4].GetString()!))];
    }

    /// <summary>
    /// Retired in pydicom 2.3's PS3.6 edition, still current in DCMTK's 2022b transcription:
    /// (2130,00A0) Proposed Study Sequence and (2130,00C0) Original Image Sequence.
    /// </summary>
    private static readonly HashSet<uint> EditionDifferences = [0x213000A0, 0x213000C0];

    /// <summary>
    /// pydicom's dictionary (from a different PS3.6 edition and a different transcription) agrees with ours,
    /// generated from DCMTK's, on keyword, VR and retirement for every tag both know.
    /// </summary>
    [Fact]
    public void Agrees_with_pydicom_on_every_tag_both_know()
    {
        var mismatches = new List<string>();
        var both = 0;
        var entries = Pydicom();
        var exact = entries.Where(p => !p.Tag.Contains('X')).Select(p => p.Tag).ToHashSet();
        foreach (var p in entries)
        {
            // Repeater masks: 'x' digits stand for any hex digit; test the lowest and the highest even instance.
            var lo = new DicomTag(Convert.ToUInt32(p.Tag.Replace('X', '0'), 16));
            var hi = new DicomTag(Convert.ToUInt32(p.Tag.Replace('X', 'E'), 16));
            foreach (var tag in lo == hi ? [lo] : new[] { lo, hi })
            {
                // A repeater instance that is also an exact entry, or a group length, is the exact entry's business.
                if (lo != hi && (exact.Contains(tag.Value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture)) || tag.Element == 0))
                {
                    continue;
                }
                if (EditionDifferences.Contains(tag.Value))
                {
                    continue;
                }
                var ours = DicomDictionary.Lookup(tag);
                if (ours is null)
                {
                    continue;
                }
                both++;
                var vrs = p.VR.Split(" or ");
                var ourVrs = new[] { ours.VR, ours.AlternateVR }.Where(v => v != DicomVR.None).Select(DicomVRInfo.Code).ToArray();
                var vrOk = p.VR == "NONE" ? ourVrs.Length == 0 : vrs.All(v => ourVrs.Contains(v)) || ourVrs.All(v => vrs.Contains(v));
                if (ours.Keyword != p.Keyword || !vrOk || ours.Retired != p.Retired)
                {
                    mismatches.Add($"{tag}: pydicom {p.Keyword} {p.VR} retired={p.Retired}; ours {ours.Keyword} {string.Join("/", ourVrs)} retired={ours.Retired}");
                }
            }
        }
        Assert.True(both > 4800, $"only {both} tags in common");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void Keyword_and_tag_lookups_are_inverse_and_match_pydicom()
    {
        foreach (var p in Pydicom().Where(p => !p.Tag.Contains('X')))
        {
            var tag = new DicomTag(Convert.ToUInt32(p.Tag, 16));
            if (DicomDictionary.Lookup(tag) is null)
            {
                continue;
            }
            Assert.Equal(tag, DicomDictionary.TagOf(p.Keyword));
            Assert.Equal(p.Keyword, DicomDictionary.KeywordOf(tag));
        }
        // Repeating groups (PS3.5 §7.6): any even group 6000-60FF.
        Assert.Equal("OverlayRows", DicomDictionary.KeywordOf(new DicomTag(0x60220010)));
        Assert.Null(DicomDictionary.Lookup(new DicomTag(0x60230010))?.Keyword is "OverlayRows" ? "odd" : null);
        Assert.Equal("PrivateCreator", DicomDictionary.KeywordOf(new DicomTag(0x00190010)));
    }

    [Fact]
    public void Tag_constants_agree_with_pydicom_keywords()
    {
        var byKeyword = Pydicom().Where(p => !p.Tag.Contains('X')).GroupBy(p => p.Keyword).ToDictionary(g => g.Key, g => g.First().Tag);
        var checkedCount = 0;
        foreach (var prop in typeof(DicomTags).GetProperties())
        {
            var tag = (DicomTag)prop.GetValue(null)!;
            Assert.Equal(tag, DicomDictionary.TagOf(prop.Name));
            if (byKeyword.TryGetValue(prop.Name, out var theirs))
            {
                Assert.Equal(theirs, tag.Value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture));
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 4800, $"{checkedCount}");
    }

    [Fact]
    public void Committed_generated_file_matches_the_generator_and_DCMTK_dictionary()
    {
        Assert.True(File.Exists(Oracles.DcmtkDictionary), $"{Oracles.DcmtkDictionary} missing: apt-get install dcmtk");
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "eng", "dicom", "gen_dictionary.py")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("repository root not found");
        }
        var tmp = Directory.CreateTempSubdirectory();
        try
        {
            // The generator writes relative to its own location: run a copy placed in a scratch tree.
            var eng = Directory.CreateDirectory(Path.Combine(tmp.FullName, "eng", "dicom"));
            foreach (var input in new[] { "gen_dictionary.py", "domain_tags.txt" })
            {
                File.Copy(Path.Combine(repo, "eng", "dicom", input), Path.Combine(eng.FullName, input));
            }
            var (exit, _, stderr) = Oracles.Run(Oracles.Python, Path.Combine(eng.FullName, "gen_dictionary.py"), Oracles.DcmtkDictionary);
            Assert.True(exit == 0, stderr);
            foreach (var name in new[] { "DicomDictionary.g.cs", "DicomPrivateDictionary.g.cs" })
            {
                var generated = File.ReadAllText(Path.Combine(tmp.FullName, "src", "Dicom", "Dictionary", name));
                Assert.Equal(generated, File.ReadAllText(Path.Combine(repo, "src", "Dicom", "Dictionary", name)));
            }

            // Domain's own tag table (Domain references no codec).
            var tags = Path.Combine("src", "Domain", "Common", "Tags.g.cs");
            Assert.Equal(File.ReadAllText(Path.Combine(tmp.FullName, tags)), File.ReadAllText(Path.Combine(repo, tags)));
        }
        finally
        {
            tmp.Delete(true);
        }
    }
}
