using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Checkpoints;
using Federation.Core.Crypto;
using Federation.Core.Scrolls;
using Federation.Storage.Keys;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;

namespace Federation.Cli.Commands;

/// <summary><c>fed scroll …</c>: append, seal, prove, verify, anchor, roll back and query scrolls.</summary>
public static class ScrollCommand
{
    /// <summary>Receipts piped into <c>fed scroll append</c> are read whole; larger inputs are refused.</summary>
    public const long MaxAppendInputBytes = 256L * 1024 * 1024;

    /// <summary>The default limit of <c>fed verify-bundle</c>: a receipt line (at most 16 MiB) and its proof, with room.</summary>
    public const long MaxBundleBytes = 64L * 1024 * 1024;

    public static Command Build(CliConsole console)
    {
        var scroll = new Command("scroll", "Append to, seal, prove, verify, anchor and query scrolls (append-only Merkle ledgers)");
        scroll.Subcommands.Add(Append(console));
        scroll.Subcommands.Add(Root(console));
        scroll.Subcommands.Add(CheckpointNow(console));
        scroll.Subcommands.Add(Prove(console));
        scroll.Subcommands.Add(Consistency(console));
        scroll.Subcommands.Add(Verify(console));
        scroll.Subcommands.Add(Anchor(console));
        scroll.Subcommands.Add(AnchorStatus(console));
        scroll.Subcommands.Add(Rollback(console));
        scroll.Subcommands.Add(Query(console));
        scroll.Subcommands.Add(Repair(console));
        return scroll;
    }

    /// <summary><c>fed verify-bundle FILE --pub KEY</c>, at top level: needs no access to the scroll.</summary>
    public static Command VerifyBundle(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Bundle printed by `fed scroll prove` (or - for stdin)" };
        var pub = new Option<string>("--pub") { Description = "Public key file of the checkpoint signer", Required = true };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Refuse a bundle larger than this (default 64 MiB: a bundle is one receipt line and about 40 hashes)", DefaultValueFactory = _ => MaxBundleBytes };
        var command = new Command("verify-bundle", "Verify an inclusion bundle offline: exit 0 valid, 1 invalid, 2 unusable input") { file, pub, maxBytes };
        command.SetAction(parse => console.Run(() =>
        {
            var bundle = InclusionBundle.FromJson(CliConsole.ReadInput(parse.GetValue(file)!, parse.GetValue(maxBytes), "--max-bytes"));
            var key = KeyFiles.ReadPublicKey(parse.GetValue(pub)!);
            var origin = SignedNote.Split(bundle.Checkpoint).Text.Split('\n')[0];
            var verdict = bundle.Verify([NoteVerifierKey.For(origin, key)]);
            if (!verdict.IsValid)
            {
                foreach (var failure in verdict.Failures)
                {
                    console.Error.WriteLine($"fed: bundle invalid: {failure}");
                }

                return ExitCodes.Failed;
            }

            console.Out.WriteLine($"bundle verified: {bundle.Scroll}:{bundle.Index} is in the tree of size {verdict.Checkpoint!.Size} signed by {key.Fingerprint}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Append(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var key = new Option<string>("--key") { Description = "Scroll signing key (private); default appsettings Federation:Scrolls:SigningKey or <data-dir>/keys/scroll.key" };
        var input = new Option<string>("--in") { Description = "Receipts, one JSON object per line ({\"type\",\"body\",\"tags\"?,\"node\"?}); - for stdin", DefaultValueFactory = _ => "-" };
        var follow = new Option<bool>("--follow") { Description = "Stream: append each input line as it arrives and print its seq once it is durable" };
        var command = new Command("append", "Append receipts (scroll, seq and time are filled in); prints each seq") { key, input, follow };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            if (parse.GetValue(follow))
            {
                await using var streaming = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(key), ScrollAccess.Write, ct);
                return await FollowAsync(console, streaming.Ledger, parse.GetValue(input)!, ct);
            }

            var drafts = ParseDrafts(CliConsole.ReadInput(parse.GetValue(input)!, MaxAppendInputBytes));
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(key), ScrollAccess.Write, ct);
            var sealedReceipts = await session.Ledger.AppendAsync(drafts, ct);
            foreach (var receipt in sealedReceipts)
            {
                console.Out.WriteLine(receipt.Seq.ToString(CultureInfo.InvariantCulture));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Appends line by line; a seq printed is a receipt on disk (the acknowledgement).</summary>
    private static async Task<int> FollowAsync(CliConsole console, ScrollLedger ledger, string input, CancellationToken ct)
    {
        using var reader = input == "-" ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(input);
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (line.Length > MaxFollowLineChars)
            {
                return console.Unusable($"input line {lineNumber} is longer than {MaxFollowLineChars} characters");
            }

            var draft = ParseDrafts(Encoding.UTF8.GetBytes(line))[0];
            var receipt = await ledger.AppendAsync(draft, ct);
            console.Out.WriteLine(receipt.Seq.ToString(CultureInfo.InvariantCulture));
            console.Out.Flush();
        }

        return ExitCodes.Ok;
    }

    /// <summary>One streamed receipt is at most this long (the store's own line limit is 1 MiB).</summary>
    private const int MaxFollowLineChars = 1024 * 1024;

    private static Command Root(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var command = new Command("root", "Print the scroll's size and hex root") { pub };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Read, ct);
            session.RequireVerified();
            console.Out.WriteLine($"size {session.Ledger.Size}");
            console.Out.WriteLine($"root {session.Ledger.Root(session.Ledger.Size).ToHex()}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CheckpointNow(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var key = KeyOption();
        var command = new Command("checkpoint", "Seal now and print the signed checkpoint note") { key };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(key), ScrollAccess.Write, ct);
            var note = await session.Ledger.SealAsync(ct);
            if (note is null)
            {
                return console.Fail($"scroll {session.Ledger.Scroll} is empty: nothing to seal");
            }

            console.Out.Write(note);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Prove(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var index = new Option<long>("--index") { Description = "Receipt seq to prove", Required = true };
        var command = new Command("prove", "Print an offline-verifiable bundle: receipt line, leaf hash, inclusion proof, signed checkpoint (reads only; no private key)") { index, pub };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            // Proving reads: the bundle cites the latest signed checkpoint, and a receipt it does not cover yet is an
            // error (seal one with fed scroll checkpoint) — never a checkpoint signed on the reader's behalf.
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Read, ct);
            session.RequireVerified();
            var bundle = await session.Ledger.ProveAsync(parse.GetValue(index), ct);
            console.Out.WriteLine(bundle.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Consistency(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var from = new Option<long>("--from") { Description = "Earlier tree size", Required = true };
        var to = new Option<long?>("--to") { Description = "Later tree size (default: current size)" };
        var command = new Command("consistency", "Print an RFC 9162 consistency proof between two tree sizes") { from, to, pub };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Read, ct);
            session.RequireVerified();
            var ledger = session.Ledger;
            var first = parse.GetValue(from);
            var second = parse.GetValue(to) ?? ledger.Size;
            if (first < 0 || first > second || second > ledger.Size)
            {
                return console.Unusable($"need 0 <= --from <= --to <= {ledger.Size} (the scroll's size), got {first} and {second}");
            }

            var output = new JsonObject
            {
                ["scroll"] = ledger.Scroll,
                ["first"] = first,
                ["second"] = second,
                ["first_root"] = ledger.Root(first).ToHex(),
                ["second_root"] = ledger.Root(second).ToHex(),
                ["proof"] = new JsonArray(ledger.ConsistencyProof(first, second).Select(p => (JsonNode?)JsonValue.Create(p.ToHex())).ToArray()),
            };
            console.Out.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Verify(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var anchors = AnchorsOption();
        var command = new Command("verify", "Re-hash everything, check every checkpoint and anchor; exit 1 naming the first bad index") { pub, anchors };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Read, ct);
            var report = await ScrollMaintenance.VerifyAsync(session.Ledger, new AnchorFile(parse.GetValue(anchors) ?? session.Settings.AnchorPath), ct);
            foreach (var note in report.Notes)
            {
                console.Out.WriteLine($"note: {note}");
            }

            if (!report.IsValid)
            {
                foreach (var failure in report.Failures)
                {
                    console.Error.WriteLine($"fed: {report.Scroll}: {failure}");
                }

                console.Error.WriteLine(report.FirstBadIndex >= 0
                    ? $"fed: {report.Scroll}: FAILED, first bad index {report.FirstBadIndex}"
                    : $"fed: {report.Scroll}: FAILED (see above)");
                return ExitCodes.Failed;
            }

            console.Out.WriteLine($"{report.Scroll}: OK, {report.Size} receipts verified");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Anchor(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var key = KeyOption();
        var anchors = AnchorsOption();
        var command = new Command("anchor", "Seal and append the checkpoint to the anchor file after checking consistency with the previous anchor") { key, anchors };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(key), ScrollAccess.Write, ct);
            await using var anchorScroll = await session.OpenOtherAsync(AnchorCycle.AnchorScroll, ct);
            var result = await AnchorCycle.RunAsync(session.Ledger, new AnchorFile(parse.GetValue(anchors) ?? session.Settings.AnchorPath), anchorScroll, TimeProvider.System, ct);
            var receipt = result.Receipt is { } r ? $" (receipt {r.Id})" : string.Empty;
            var line = $"{result.Outcome.ToString().ToLowerInvariant()}: {result.Scroll} size {result.Size}: {result.Detail}{receipt}";
            if (result.Outcome is AnchorOutcome.Success or AnchorOutcome.NothingToAnchor)
            {
                console.Out.WriteLine(line);
                return ExitCodes.Ok;
            }

            return console.Fail(line);
        }));
        return command;
    }

    private static Command AnchorStatus(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var anchors = AnchorsOption();
        var command = new Command("anchor-status", "Per scroll: the latest anchor (size, time) and the outcome of recent anchor cycles") { anchors };
        common.AddTo(command, withScroll: false);
        command.SetAction(parse => console.Run(() =>
        {
            var settings = ScrollSession.Resolve(parse, common);
            var file = new AnchorFile(parse.GetValue(anchors) ?? settings.AnchorPath);
            var entries = file.ReadAll();
            if (entries.Count == 0)
            {
                console.Out.WriteLine($"no anchors in {file.Path}");
                return ExitCodes.Ok;
            }

            console.Out.WriteLine($"{"scroll",-32} {"anchors",7} {"latest size",12}  anchored at");
            foreach (var group in entries.GroupBy(e => e.Scroll).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var latest = group.Last();
                console.Out.WriteLine($"{group.Key,-32} {group.Count(),7} {latest.Size,12}  {latest.AnchoredAt}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Rollback(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var key = KeyOption();
        var anchors = AnchorsOption();
        var toAnchor = new Option<bool>("--to-anchor") { Description = "Roll back to the last anchored size (the only mode)", Required = true };
        var confirm = new Option<bool>("--confirm") { Description = "Required: removed receipts move to a quarantine file" };
        var command = new Command("rollback", "Truncate a scroll whose tail fails verification back to its last anchor; removed lines are quarantined, never deleted") { key, anchors, toAnchor, confirm };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            if (!parse.GetValue(confirm))
            {
                return console.Unusable("rollback moves receipts out of the scroll: add --confirm to proceed");
            }

            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(key), ScrollAccess.Write, ct);
            await using var anchorScroll = await session.OpenOtherAsync(AnchorCycle.AnchorScroll, ct);
            var result = await ScrollMaintenance.RollbackToAnchorAsync(session.Ledger, new AnchorFile(parse.GetValue(anchors) ?? session.Settings.AnchorPath), anchorScroll, ct);
            console.Out.WriteLine($"rolled back {session.Ledger.Scroll} from {result.FromSize} to {result.ToSize} receipts; removed lines in {result.QuarantinedTo}" +
                (result.Receipt is { } r ? $" (receipt {r.Id})" : string.Empty));
            console.Out.WriteLine($"the scroll goes on in generation {result.Generation} (origin {session.Ledger.Origin}); its first receipt {result.GenerationReceipt.Id} cites the anchored checkpoint");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Query(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var type = new Option<string>("--type") { Description = "Only receipts of this type" };
        var tag = new Option<string>("--tag") { Description = "Only receipts with this tag" };
        var node = new Option<string>("--node") { Description = "Only receipts about this node (fingerprint)" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only receipts at or after this time (RFC 3339)" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only receipts before this time (RFC 3339)" };
        var json = new Option<bool>("--json") { Description = "Print matching receipt lines as JSON (one per line)" };
        var unverified = new Option<bool>("--unverified") { Description = "Forensics: show the raw lines of a scroll that fails verification, each marked UNVERIFIED (exit 1 all the same)" };
        var command = new Command("query", "Filter a scroll's receipts by type, tag, node and time range") { pub, type, tag, node, since, until, json, unverified };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Read, ct);
            string? damage = null;
            try
            {
                session.RequireVerified("--unverified");
            }
            catch (ScrollNotVerifiedException ex) when (parse.GetValue(unverified))
            {
                damage = ex.Message;
                console.Error.WriteLine($"fed: {damage}");
                console.Error.WriteLine("fed: --unverified: the lines below are NOT verified evidence");
            }

            var filter = new ReceiptFilter(parse.GetValue(type), parse.GetValue(tag), parse.GetValue(node), parse.GetValue(since), parse.GetValue(until));
            var count = 0;
            await foreach (var (seq, line) in session.Ledger.ReadAsync(0, long.MaxValue, ct))
            {
                Receipt? receipt = null;
                try
                {
                    receipt = Receipt.Parse(line);
                }
                catch (FormatException) when (damage is not null)
                {
                    // A damaged line is shown to the forensic reader whatever the filter.
                }

                if (receipt is not null && !filter.Matches(receipt))
                {
                    continue;
                }

                count++;
                console.Out.WriteLine(QueryLine(seq, line, receipt, parse.GetValue(json), damage is not null));
            }

            if (!parse.GetValue(json))
            {
                console.Out.WriteLine(damage is null ? $"{count} receipt(s)" : $"{count} UNVERIFIED line(s)");
            }

            return damage is null ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    /// <summary>One line of <c>fed scroll query</c>: verified lines as they are; unverified ones marked so no reader takes them for evidence.</summary>
    private static string QueryLine(long seq, byte[] line, Receipt? receipt, bool json, bool unverified)
    {
        if (!unverified)
        {
            return json
                ? Encoding.UTF8.GetString(line)
                : $"{seq,8}  {Receipt.FormatTime(receipt!.Time)}  {receipt.Type,-24} {receipt.Node ?? "-",-16} {string.Join(',', receipt.Tags)}";
        }

        var raw = Encoding.UTF8.GetString(line);
        return json
            ? new JsonObject { ["unverified"] = true, ["seq"] = seq, ["raw"] = raw }.ToJsonString()
            : $"UNVERIFIED {seq,8}  {raw}";
    }

    private static Command Repair(CliConsole console)
    {
        var common = new ScrollCliOptions();
        var pub = PubOption();
        var confirm = new Option<bool>("--confirm") { Description = "Required: a torn tail moves to a .torn file, lines after the last authenticated commit to a quarantine file, and ROOT is rewritten from the checkpoint history" };
        var command = new Command("repair", "Finish what a crash (or another program) left: move torn tails and unauthenticated lines aside, rewrite a missing or stale ROOT file (signs nothing; reading commands never repair)") { pub, confirm };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            if (!parse.GetValue(confirm))
            {
                return console.Unusable("repair moves torn tails and rewrites ROOT files: add --confirm to proceed (`fed scroll verify` shows what is wrong)");
            }

            await using var session = await ScrollSession.OpenAsync(console.Error, parse, common, parse.GetValue(pub), ScrollAccess.Repair, ct);
            var report = session.Ledger.OpenReport!;
            var repaired = 0;
            foreach (var torn in new[] { report.Torn, report.TornCheckpoint })
            {
                if (torn is not null)
                {
                    repaired++;
                    console.Out.WriteLine($"moved a torn tail ({torn.Length} bytes at offset {torn.Offset}) to {torn.MovedTo}");
                }
            }

            if (report.RootRepaired is { } root)
            {
                repaired++;
                console.Out.WriteLine($"rewrote the ROOT file from the checkpoint history: {root}");
            }

            if (await session.Ledger.MoveUnauthenticatedTailAsync(ct) is { } tail)
            {
                repaired++;
                console.Out.WriteLine($"moved {tail.Count} line(s) from seq {tail.From} that come after the last authenticated commit to {tail.QuarantinedTo}");
            }

            console.Out.WriteLine(repaired == 0 ? $"{session.Ledger.Scroll}: nothing to repair" : $"{session.Ledger.Scroll}: {repaired} repair(s)");
            if (session.Ledger.IsHalted)
            {
                return console.Fail($"scroll {session.Ledger.Scroll} still fails verification: {session.Ledger.HaltReason} (first bad index {session.Ledger.FirstBadIndex}); that is not a crash's leftover: see `fed scroll rollback`");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Option<string> KeyOption() => new("--key") { Description = "Scroll signing key (private); default appsettings Federation:Scrolls:SigningKey or <data-dir>/keys/scroll.key" };

    private static Option<string> PubOption() => new("--pub") { Description = "Public key that signs the scroll's checkpoints; default: the public half of the default signing key" };

    private static Option<string> AnchorsOption() => new("--anchors") { Description = "Anchor file (default appsettings Federation:Scrolls:AnchorFile or <data>/merkle/meta_M5.merk)" };

    private static IReadOnlyList<ReceiptDraft> ParseDrafts(byte[] input)
    {
        var drafts = new List<ReceiptDraft>();
        var lineNumber = 0;
        foreach (var raw in Encoding.UTF8.GetString(input).Split('\n'))
        {
            lineNumber++;
            var text = raw.Trim();
            if (text.Length == 0)
            {
                continue;
            }

            try
            {
                var obj = CanonicalJson.Parse(text) as JsonObject ?? throw new FormatException("expected a JSON object");
                foreach (var (name, _) in obj)
                {
                    if (name is not ("type" or "body" or "tags" or "node"))
                    {
                        throw new FormatException($"unexpected member \"{name}\" (allowed: type, body, tags, node; scroll, seq and time are filled in)");
                    }
                }

                var type = obj["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : throw new FormatException("\"type\" must be a string");
                var body = obj["body"] as JsonObject ?? throw new FormatException("\"body\" must be an object");
                var tags = obj["tags"] is JsonArray array ? array.Select(x => x?.GetValue<string>() ?? throw new FormatException("tags must be strings")).ToList() : null;
                var node = obj["node"]?.GetValue<string>();
                drafts.Add(new ReceiptDraft(type, (JsonObject)body.DeepClone(), tags, node));
                Receipt.BuildLine(drafts[^1], "check", 0, DateTimeOffset.UnixEpoch);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                throw new FormatException($"input line {lineNumber}: {ex.Message}", ex);
            }
        }

        if (drafts.Count == 0)
        {
            throw new FormatException("no receipts in the input");
        }

        return drafts;
    }
}

/// <summary>A filter over receipts (SPEC E: by node, type, tag and time range).</summary>
public sealed record ReceiptFilter(string? Type, string? Tag, string? Node, DateTimeOffset? Since, DateTimeOffset? Until)
{
    public bool Matches(Receipt receipt) =>
        (Type is null || receipt.Type == Type)
        && (Tag is null || receipt.Tags.Contains(Tag))
        && (Node is null || receipt.Node == Node)
        && (Since is null || receipt.Time >= Since)
        && (Until is null || receipt.Time < Until);
}
