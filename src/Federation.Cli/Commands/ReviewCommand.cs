using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Governance;
using Federation.Grains;
using Federation.Storage.Keys;

using Federation.Grains.Services;

using Federation.Service;

namespace Federation.Cli.Commands;

/// <summary><c>fed review …</c>: quarantine cases, their evidence, and signed verdicts (docs/reviewer-guide.md).</summary>
public static class ReviewCommand
{
    public static Command Build(CliConsole console)
    {
        var review = new Command("review", "Review quarantine cases: list, show the evidence, approve or reject with a signed verdict");
        review.Subcommands.Add(List(console));
        review.Subcommands.Add(Show(console));
        review.Subcommands.Add(Decide(console, VerdictKind.Approve));
        review.Subcommands.Add(Decide(console, VerdictKind.Reject));
        return review;
    }

    private static Command List(CliConsole console)
    {
        var common = new CoordinatorCliOptions();
        var command = new Command("list", "Pending cases first, then decided ones");
        common.AddTo(command, withJson: true);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var (host, federation) = await CoordinatorSession.OpenAsync(parse, common, ct, CoordinatorRole.Reader);
            await using var _ = host;
            var cases = await host.Grains.GetGrain<IReviewGrain>(federation).ListAsync();
            if (parse.GetValue(common.Json))
            {
                console.Out.WriteLine(new JsonArray(cases.Select(c => (JsonNode?)ReviewJson.Case(c)).ToArray()).ToJsonString());
                return ExitCodes.Ok;
            }

            if (cases.Count == 0)
            {
                console.Out.WriteLine($"no cases in federation {federation}");
            }

            foreach (var c in cases)
            {
                console.Out.WriteLine($"{c.Case}\t{c.Node}\t{c.EvidenceType}\t{(c.Verdict is null ? "pending" : $"{(c.Verdict == "approve" ? "approved" : "rejected")} by {c.Reviewer} ({c.VerdictReceipt})")}\tnode {c.NodeStatus.ToString().ToLowerInvariant()}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var common = new CoordinatorCliOptions();
        var caseId = new Argument<string>("case") { Description = "Case id: the evidence receipt id, e.g. fed1.governance:3" };
        var command = new Command("show", "The case's evidence, the votes of the epochs that quarantined the node, and the node's history") { caseId };
        common.AddTo(command, withJson: true);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var (host, federation) = await CoordinatorSession.OpenAsync(parse, common, ct, CoordinatorRole.Reader);
            await using var _ = host;
            var reviews = host.Grains.GetGrain<IReviewGrain>(federation);
            var detail = await reviews.ShowAsync(parse.GetValue(caseId)!);
            if (detail is null)
            {
                var cases = (await reviews.ListAsync()).Select(c => c.Case).ToList();
                return console.Unusable(cases.Count == 0
                    ? $"no case {parse.GetValue(caseId)} in federation {federation}: it has no cases"
                    : $"no case {parse.GetValue(caseId)} in federation {federation}; its cases are {string.Join(", ", cases.Take(10))}{(cases.Count > 10 ? $" and {cases.Count - 10} more (`fed review list`)" : string.Empty)}");
            }

            if (parse.GetValue(common.Json))
            {
                console.Out.WriteLine(ReviewJson.Detail(detail).ToJsonString());
                return ExitCodes.Ok;
            }

            var c = detail.Case;
            console.Out.WriteLine($"case {c.Case}: node {c.Node}");
            console.Out.WriteLine($"  status: {detail.Node.Record.Status.ToString().ToLowerInvariant()} — {detail.Node.Record.StatusReason}");
            console.Out.WriteLine($"  verdict: {(c.Verdict is null ? "pending" : $"{c.Verdict} by {c.Reviewer} ({c.VerdictReceipt})")}");
            console.Out.WriteLine($"  updates recorded: {detail.Node.UpdatesRecorded}, last epoch {detail.Node.Record.LastEpoch}");
            console.Out.WriteLine($"evidence {detail.Evidence.Id} ({detail.Evidence.Type}, {detail.Evidence.Time}):");
            console.Out.WriteLine($"  {detail.Evidence.Line}");
            console.Out.WriteLine($"votes: {(detail.Decisions.Count == 0 ? "no committed epoch lists the node yet" : string.Empty)}");
            foreach (var decision in detail.Decisions)
            {
                var body = ((JsonObject)CanonicalJson.Parse(System.Text.Encoding.UTF8.GetBytes(decision.Line))!)["body"]!;
                var votes = body["commit_certificate"]!.AsArray();
                var validators = string.Join(", ", votes.Select(v => v?["validator"]?.GetValue<string>()).Where(v => v is not null));
                console.Out.WriteLine($"  {decision.Id}: epoch {body["epoch"]}, digest {body["digest"]}, {votes.Count} signed commit votes ({validators})");
            }

            console.Out.WriteLine("history:");
            foreach (var entry in detail.History)
            {
                console.Out.WriteLine($"  {entry.Time}  {entry.Id}  {entry.Type}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Decide(CliConsole console, VerdictKind kind)
    {
        var name = ReviewVerdict.VerdictName(kind);
        var common = new CoordinatorCliOptions();
        var caseId = new Argument<string>("case") { Description = "Case id: the evidence receipt id, e.g. fed1.governance:3" };
        var key = new Option<string>("--key") { Description = "The reviewer's private key file (its public key must be in Federations:N:ReviewerKeys)", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (sealed with the verdict)", Required = true };
        var command = new Command(name, kind == VerdictKind.Approve
            ? "Approve: the node is active again (sealed, signed verdict)"
            : "Reject: the node is excluded and its key revoked (sealed, signed verdict)") { caseId, key, reason };
        common.AddTo(command);
        command.SetAction((parse, ct) => console.RunAsync(async () =>
        {
            var why = parse.GetValue(reason)!.Trim();
            if (why.Length == 0)
            {
                return console.Unusable("--reason must say why");
            }

            using var reviewerKey = KeyFiles.ReadPrivateKey(parse.GetValue(key)!);
            var (host, federation) = await CoordinatorSession.OpenAsync(parse, common, ct);
            await using var _ = host;
            var review = host.Grains.GetGrain<IReviewGrain>(federation);
            var id = parse.GetValue(caseId)!;
            var found = (await review.ListAsync()).FirstOrDefault(c => c.Case == id);
            if (found is null)
            {
                return console.Unusable($"no case {id} in federation {federation} (`fed review list` shows the cases)");
            }

            var verdict = new ReviewVerdict(federation, id, found.Node, kind, why, reviewerKey.Fingerprint, id);
            var outcome = await review.DecideAsync(ReviewVerdict.Sign(verdict, reviewerKey).ToCanonicalJson());
            if (!outcome.Sealed)
            {
                var message = $"verdict refused ({outcome.Code}): {outcome.Message}";
                return outcome.Code is ReviewRefusal.UnknownCase or ReviewRefusal.MalformedVerdict ? console.Unusable(message) : console.Fail(message);
            }

            console.Out.WriteLine(outcome.Message);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
