using System.Diagnostics;
using System.Text.Json;
using Federation.Core.Scrolls;

namespace Federation.Cli.Tests;

public class ScrollCommandTests
{
    private static FedRunner.Result Fed(TempDirectory dir, params string[] args) => FedRunner.InProcess([.. args, "--data-dir", dir.Path]);

    private static string Receipts(params int[] ns) =>
        string.Join('\n', ns.Select(n => $$"""{"type":"update_accepted","body":{"n":{{n}}},"node":"ed25519:n{{n % 2}}","tags":["e{{n % 3}}"]}"""));

    private static TempDirectory WithKey()
    {
        var dir = new TempDirectory();
        Assert.Equal(0, FedRunner.InProcess("keys", "generate", "--out", Path.Combine(dir.Path, "keys", "scroll.key")).ExitCode);
        return dir;
    }

    private static void AppendFile(TempDirectory dir, string scroll, string receipts)
    {
        var input = dir.File($"in-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(input, receipts);
        var result = Fed(dir, "scroll", "append", "--scroll", scroll, "--in", input);
        Assert.True(result.ExitCode == 0, result.Err);
    }

    [Fact]
    public void Append_prints_each_seq_and_prove_gives_a_bundle_that_verifies_offline()
    {
        using var dir = WithKey();
        var input = dir.File("in.jsonl");
        File.WriteAllText(input, Receipts(0, 1, 2, 3, 4));
        var appended = Fed(dir, "scroll", "append", "--scroll", "s1", "--in", input);
        Assert.Equal("0\n1\n2\n3\n4\n", appended.Out);

        var proof = Fed(dir, "scroll", "prove", "--scroll", "s1", "--index", "3");
        Assert.Equal(0, proof.ExitCode);
        File.WriteAllText(dir.File("bundle.json"), proof.Out);
        var verified = FedRunner.InProcess("verify-bundle", dir.File("bundle.json"), "--pub", Path.Combine(dir.Path, "keys", "scroll.key.pub"));
        Assert.True(verified.ExitCode == 0, verified.Err);

        // The same bundle with another receipt's line is refused with exit 1.
        var doc = JsonDocument.Parse(proof.Out).RootElement;
        var tampered = proof.Out.Replace(doc.GetProperty("line").GetString()!.Replace("\"", "\\\""), doc.GetProperty("line").GetString()!.Replace("\"", "\\\"").Replace("\\\"n\\\":3", "\\\"n\\\":33"));
        File.WriteAllText(dir.File("tampered.json"), tampered);
        var refused = FedRunner.InProcess("verify-bundle", dir.File("tampered.json"), "--pub", Path.Combine(dir.Path, "keys", "scroll.key.pub"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("leaf hash", refused.Err);
    }

    [Fact]
    public void Reading_commands_refuse_a_scroll_that_does_not_exist_and_create_nothing()
    {
        using var dir = WithKey();
        AppendFile(dir, "s1", Receipts(0, 1));
        var before = Directory.GetFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        foreach (var args in new[] { new[] { "verify" }, ["root"], ["query"], ["consistency", "--from", "0", "--to", "0"] })
        {
            var result = Fed(dir, ["scroll", .. args, "--scroll", "typo"]);
            Assert.True(result.ExitCode == 2, $"{args[0]}: {result.ExitCode} {result.Out} {result.Err}");
            Assert.Contains("scroll \"typo\" does not exist", result.Err);
            Assert.Contains("its scrolls are s1", result.Err);
        }

        Assert.Equal(before, Directory.GetFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Root_checkpoint_and_consistency_agree()
    {
        using var dir = WithKey();
        AppendFile(dir, "s2", Receipts(0, 1, 2));
        var note = Fed(dir, "scroll", "checkpoint", "--scroll", "s2").Out;
        Assert.StartsWith("federation-orleans/s2\n3\n", note);
        Assert.Equal(note, File.ReadAllText(Path.Combine(dir.Path, "ROOT.s2.txt")));

        AppendFile(dir, "s2", Receipts(3, 4));
        var root = Fed(dir, "scroll", "root", "--scroll", "s2").Out;
        Assert.StartsWith("size 5\nroot ", root);

        var consistency = JsonDocument.Parse(Fed(dir, "scroll", "consistency", "--scroll", "s2", "--from", "3").Out).RootElement;
        Assert.Equal(5, consistency.GetProperty("second").GetInt64());
        Assert.Equal(root.Split('\n')[1]["root ".Length..], consistency.GetProperty("second_root").GetString());
        Assert.Equal(2, Fed(dir, "scroll", "consistency", "--scroll", "s2", "--from", "6").ExitCode);
    }

    [Fact]
    public void Query_filters_by_type_tag_node_and_time()
    {
        using var dir = WithKey();
        AppendFile(dir, "s3", Receipts(0, 1, 2, 3, 4, 5) + "\n" + """{"type":"quarantine","body":{},"node":"ed25519:n1"}""");
        Assert.Contains("7 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s3").Out);
        Assert.Contains("1 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s3", "--type", "quarantine").Out);
        Assert.Contains("2 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s3", "--tag", "e0").Out);
        var byNode = Fed(dir, "scroll", "query", "--scroll", "s3", "--node", "ed25519:n1", "--json").Out.Trim().Split('\n');
        Assert.Equal(4, byNode.Length);
        Assert.All(byNode, l => Assert.Equal("ed25519:n1", Receipt.Parse(System.Text.Encoding.UTF8.GetBytes(l)).Node));
        Assert.Contains("0 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s3", "--since", "2999-01-01T00:00:00Z").Out);
        Assert.Contains("7 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s3", "--until", "2999-01-01T00:00:00Z").Out);
    }

    [Fact]
    public void Anchoring_writes_under_the_data_directory_by_default_never_into_the_working_directory()
    {
        using var dir = WithKey();
        AppendFile(dir, "s5", Receipts(0, 1));
        var working = Path.Combine(Environment.CurrentDirectory, "artifacts", "merkle", "meta_M5.merk");
        var before = File.Exists(working) ? File.ReadAllBytes(working) : null;
        var anchored = Fed(dir, "scroll", "anchor", "--scroll", "s5");
        Assert.True(anchored.ExitCode == 0, anchored.Err);
        Assert.Contains("\"s5\"", File.ReadAllText(Path.Combine(dir.Path, "merkle", "meta_M5.merk")));
        Assert.Equal(before, File.Exists(working) ? File.ReadAllBytes(working) : null);
        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s5").ExitCode);
    }

    [Fact]
    public void Verify_names_the_first_bad_index_and_rollback_restores_the_anchored_scroll()
    {
        using var dir = WithKey();
        var anchors = dir.File("meta_M5.merk");
        AppendFile(dir, "s4", Receipts(0, 1, 2));
        Assert.Equal(0, Fed(dir, "scroll", "anchor", "--scroll", "s4", "--anchors", anchors).ExitCode);
        AppendFile(dir, "s4", Receipts(3, 4, 5));
        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s4", "--anchors", anchors).ExitCode);

        var file = Path.Combine(dir.Path, "receipts", "s4", "s4.jsonl");
        var lines = File.ReadAllLines(file);
        lines[3] = "{\"body\":{},\"broken\":true}";
        File.WriteAllLines(file, lines);

        var verify = Fed(dir, "scroll", "verify", "--scroll", "s4", "--anchors", anchors);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("first bad index 3", verify.Err);
        Assert.Equal(1, Fed(dir, "scroll", "append", "--scroll", "s4", "--in", WriteTemp(dir, Receipts(9))).ExitCode);

        Assert.Equal(2, Fed(dir, "scroll", "rollback", "--scroll", "s4", "--to-anchor", "--anchors", anchors).ExitCode);
        var rollback = Fed(dir, "scroll", "rollback", "--scroll", "s4", "--to-anchor", "--confirm", "--anchors", anchors);
        Assert.True(rollback.ExitCode == 0, rollback.Err);
        Assert.Contains("from 6 to 3", rollback.Out);
        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s4", "--anchors", anchors).ExitCode);
        var quarantine = Directory.GetFiles(Path.Combine(dir.Path, "receipts", "s4"), "s4.quarantine-*");
        Assert.Equal(3, File.ReadAllLines(Assert.Single(quarantine)).Length);

        var status = Fed(dir, "scroll", "anchor-status", "--anchors", anchors);
        Assert.Contains("s4", status.Out);
        Assert.Contains("scroll_rollback", Fed(dir, "scroll", "query", "--scroll", "anchors").Out);
    }

    [Fact]
    public void A_missing_stale_or_forged_ROOT_is_reported_by_every_reading_command_and_only_repair_rewrites_it()
    {
        using var dir = WithKey();
        AppendFile(dir, "s6", Receipts(0, 1));
        var first = Fed(dir, "scroll", "checkpoint", "--scroll", "s6").Out;
        AppendFile(dir, "s6", Receipts(2, 3));
        var latest = Fed(dir, "scroll", "checkpoint", "--scroll", "s6").Out;
        var root = Path.Combine(dir.Path, "ROOT.s6.txt");
        Assert.Equal(latest, File.ReadAllText(root));

        foreach (var (damage, expected) in new (Action Damage, string Expected)[]
        {
            (() => File.Delete(root), "ROOT.s6.txt is missing"),
            (() => File.WriteAllText(root, first), "ROOT.s6.txt is stale: it holds the checkpoint at size 2, the latest covers 4"),
            (() => File.WriteAllText(root, latest.Replace("\n4\n", "\n5\n")), "ROOT.s6.txt is not a checkpoint of this scroll's history"),
        })
        {
            damage();
            var before = TreeSnapshot.Of(dir.Path);
            foreach (var args in new[] { new[] { "verify" }, ["root"], ["query"], ["consistency", "--from", "1"], ["prove", "--index", "1"] })
            {
                var result = Fed(dir, ["scroll", .. args, "--scroll", "s6"]);
                Assert.True(result.ExitCode == 1, $"{args[0]}: {result.ExitCode} {result.Out} {result.Err}");
                Assert.Contains(expected, result.Err);
            }

            Assert.Empty(TreeSnapshot.Of(dir.Path).DifferencesFrom(before));
            Assert.Equal(2, Fed(dir, "scroll", "repair", "--scroll", "s6").ExitCode);
            var repaired = Fed(dir, "scroll", "repair", "--scroll", "s6", "--confirm");
            Assert.True(repaired.ExitCode == 0, repaired.Err);
            Assert.Contains("rewrote the ROOT file", repaired.Out);
            Assert.Equal(latest, File.ReadAllText(root));
            Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s6").ExitCode);
        }

        Assert.Contains("nothing to repair", Fed(dir, "scroll", "repair", "--scroll", "s6", "--confirm").Out);
    }

    [Fact]
    public void A_ROOT_file_without_any_checkpoint_is_reported_and_moved_aside_by_repair()
    {
        using var dir = WithKey();
        AppendFile(dir, "s10", Receipts(0));
        var history = Path.Combine(dir.Path, "receipts", "s10", "s10.checkpoints.jsonl");
        File.Delete(history);
        var root = Path.Combine(dir.Path, "ROOT.s10.txt");
        Assert.True(File.Exists(root));

        var verify = Fed(dir, "scroll", "verify", "--scroll", "s10");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("exists but the scroll has no checkpoint history", verify.Err);
        var repaired = Fed(dir, "scroll", "repair", "--scroll", "s10", "--confirm");
        Assert.True(repaired.ExitCode == 0, repaired.Err);
        Assert.Contains("moved to", repaired.Out);
        Assert.False(File.Exists(root));
        Assert.Single(Directory.GetFiles(dir.Path, "ROOT.s10.txt.orphaned-*"));
    }

    [Fact]
    public void A_torn_tail_is_left_in_place_by_reading_and_moved_aside_only_by_repair()
    {
        using var dir = WithKey();
        AppendFile(dir, "s7", Receipts(0, 1, 2));
        var lines = Path.Combine(dir.Path, "receipts", "s7", "s7.jsonl");
        File.AppendAllText(lines, "{\"seq\":3,\"half");
        var before = TreeSnapshot.Of(dir.Path);

        var verify = Fed(dir, "scroll", "verify", "--scroll", "s7");
        Assert.True(verify.ExitCode == 0, verify.Err);
        Assert.Contains("ends in a torn line (14 bytes", verify.Out);
        Assert.Contains("left in place", verify.Out);
        Assert.Contains("size 3", Fed(dir, "scroll", "root", "--scroll", "s7").Out);
        Assert.Contains("3 receipt(s)", Fed(dir, "scroll", "query", "--scroll", "s7").Out);
        Assert.Empty(TreeSnapshot.Of(dir.Path).DifferencesFrom(before));

        var repaired = Fed(dir, "scroll", "repair", "--scroll", "s7", "--confirm");
        Assert.True(repaired.ExitCode == 0, repaired.Err);
        Assert.Contains("moved a torn tail (14 bytes at offset", repaired.Out);
        Assert.True(File.Exists(lines + ".torn"));
        Assert.DoesNotContain("torn", Fed(dir, "scroll", "verify", "--scroll", "s7").Out);
    }

    [Fact]
    public void A_tampered_scroll_is_never_served_as_good_and_unverified_lines_are_marked()
    {
        using var dir = WithKey();
        AppendFile(dir, "s8", Receipts(0, 1, 2, 3));
        Assert.Equal(0, Fed(dir, "scroll", "checkpoint", "--scroll", "s8").ExitCode);
        var file = Path.Combine(dir.Path, "receipts", "s8", "s8.jsonl");
        var lines = File.ReadAllLines(file);
        lines[2] = lines[2].Replace("\"n\":2", "\"n\":22");
        File.WriteAllLines(file, lines);
        var before = TreeSnapshot.Of(dir.Path);

        foreach (var args in new[] { new[] { "root" }, ["query"], ["query", "--json"], ["consistency", "--from", "1"], ["prove", "--index", "0"] })
        {
            var result = Fed(dir, ["scroll", .. args, "--scroll", "s8"]);
            Assert.True(result.ExitCode == 1, $"{args[0]}: {result.ExitCode} {result.Out} {result.Err}");
            Assert.Contains("scroll s8 fails verification", result.Err);
            Assert.Contains("no longer match the checkpoint signed at size 4", result.Err);
            Assert.Equal(string.Empty, result.Out);
        }

        var raw = Fed(dir, "scroll", "query", "--scroll", "s8", "--unverified");
        Assert.Equal(1, raw.ExitCode);
        Assert.Contains("NOT verified", raw.Err);
        Assert.Equal(4, raw.Out.Split('\n').Count(l => l.StartsWith("UNVERIFIED ", StringComparison.Ordinal)));
        Assert.Contains("\"n\":22", raw.Out);
        Assert.Contains("4 UNVERIFIED line(s)", raw.Out);
        var json = Fed(dir, "scroll", "query", "--scroll", "s8", "--unverified", "--json").Out.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(json, l => Assert.True(l.GetProperty("unverified").GetBoolean()));
        Assert.Equal(2, json[2].GetProperty("seq").GetInt64());
        Assert.Empty(TreeSnapshot.Of(dir.Path).DifferencesFrom(before));
    }

    [Fact]
    public void A_line_appended_by_another_program_fails_verify_and_is_moved_aside_never_sealed()
    {
        using var dir = WithKey();
        AppendFile(dir, "s9", Receipts(0, 1, 2));
        var file = Path.Combine(dir.Path, "receipts", "s9", "s9.jsonl");
        var forged = File.ReadAllLines(file)[2].Replace("\"seq\":2", "\"seq\":3").Replace("\"n\":2", "\"n\":77");
        File.AppendAllText(file, forged + "\n");

        var verify = Fed(dir, "scroll", "verify", "--scroll", "s9");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("lines [3, 4) come after the last authenticated commit (size 3)", verify.Err);
        Assert.Contains("first bad index 3", verify.Err);

        // Reading serves the authenticated receipts only, and says what it left out.
        var query = Fed(dir, "scroll", "query", "--scroll", "s9", "--json");
        Assert.True(query.ExitCode == 0, query.Err);
        Assert.Equal(3, query.Out.Trim().Split('\n').Length);
        Assert.DoesNotContain("\"n\":77", query.Out);
        Assert.Contains("the 1 line(s) were not read", query.Err);

        // A writer moves the line aside (saying so) and never seals it; the scroll goes on from seq 3.
        var appended = Fed(dir, "scroll", "append", "--scroll", "s9", "--in", WriteTemp(dir, Receipts(3)));
        Assert.True(appended.ExitCode == 0, appended.Err);
        Assert.Equal("3\n", appended.Out);
        Assert.Contains("warning: scroll s9: lines [3, 4) come after the last authenticated commit", appended.Err);
        Assert.Contains("never sealed", appended.Err);
        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s9").ExitCode);
        Assert.DoesNotContain("\"n\":77", File.ReadAllText(file));
        var quarantine = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!, "s9.quarantine-*"));
        Assert.Equal(forged, Assert.Single(File.ReadAllLines(quarantine)));

        // Or repair moves it, with --confirm, signing nothing.
        File.AppendAllText(file, forged.Replace("\"seq\":3", "\"seq\":4") + "\n");
        var repaired = Fed(dir, "scroll", "repair", "--scroll", "s9", "--confirm", "--pub", Path.Combine(dir.Path, "keys", "scroll.key.pub"));
        Assert.True(repaired.ExitCode == 0, repaired.Err);
        Assert.Contains("moved 1 line(s) from seq 4 that come after the last authenticated commit", repaired.Out);
        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "s9").ExitCode);
    }

    private static string WriteTemp(TempDirectory dir, string content)
    {
        var path = dir.File($"t-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData("""{"type":"t"}""", "\"body\" must be an object")]
    [InlineData("""{"type":"t","body":{},"seq":4}""", "unexpected member \"seq\"")]
    [InlineData("""{"type":"Bad","body":{}}""", "receipt type")]
    [InlineData("not json", "input line 2: malformed JSON")]
    public void Bad_receipts_are_refused_and_nothing_is_appended(string line, string expected)
    {
        using var dir = WithKey();
        AppendFile(dir, "s5", Receipts(0));
        var result = Fed(dir, "scroll", "append", "--scroll", "s5", "--in", WriteTemp(dir, Receipts(1) + "\n" + line));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Err);
        Assert.Contains("size 1", Fed(dir, "scroll", "root", "--scroll", "s5").Out);
    }

    [Fact]
    public void A_missing_key_is_explained()
    {
        using var dir = new TempDirectory();
        var result = Fed(dir, "scroll", "append", "--scroll", "s6", "--in", WriteTemp(dir, Receipts(0)));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("fed keys generate", result.Err);
    }

    [Fact]
    public void Invalid_scroll_names_are_refused()
    {
        using var dir = WithKey();
        var result = Fed(dir, "scroll", "append", "--scroll", "../escape", "--in", WriteTemp(dir, Receipts(0)));
        Assert.Equal(2, result.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "escape")));
    }

    [Fact]
    public async Task Every_acknowledged_receipt_survives_a_kill_9_of_the_appending_process()
    {
        using var dir = WithKey();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "fed.dll"), "scroll", "append", "--scroll", "crash", "--follow", "--data-dir", dir.Path })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var acknowledged = new List<long>();
        var writer = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 100_000; i++)
                {
                    await process.StandardInput.WriteLineAsync($$$"""{"type":"t","body":{"n":{{{i}}}}}""");
                    await process.StandardInput.FlushAsync();
                }
            }
            catch (IOException)
            {
                // the process was killed
            }
        });

        while (acknowledged.Count < 200 && await process.StandardOutput.ReadLineAsync() is { } line)
        {
            acknowledged.Add(long.Parse(line));
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(200, acknowledged.Count);

        // Every acknowledged seq is there with the receipt that was sent for it.
        var query = Fed(dir, "scroll", "query", "--scroll", "crash", "--json");
        Assert.True(query.ExitCode == 0, query.Err);
        var stored = query.Out.Trim().Split('\n').Select(l => Receipt.Parse(System.Text.Encoding.UTF8.GetBytes(l))).ToList();
        Assert.True(stored.Count >= acknowledged.Count);
        foreach (var seq in acknowledged)
        {
            Assert.Equal(seq, stored[(int)seq].Body["n"]!.GetValue<double>());
        }

        // A line written but not yet acknowledged when the process died (between the fsync of the lines and that of their
        // commit head) cannot be told from one another program wrote: verify says so, and the next writer (or repair)
        // moves it aside; every acknowledged receipt stays.
        var verify = Fed(dir, "scroll", "verify", "--scroll", "crash", "--anchors", dir.File("none.merk"));
        if (verify.ExitCode != 0)
        {
            Assert.Contains("after the last authenticated commit", verify.Err);
            Assert.Equal(0, Fed(dir, "scroll", "repair", "--scroll", "crash", "--confirm").ExitCode);
        }

        Assert.Equal(0, Fed(dir, "scroll", "verify", "--scroll", "crash", "--anchors", dir.File("none.merk")).ExitCode);
    }
}
