using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Federation.Core.Canonical;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;

namespace Federation.Agent;

/// <summary>What a local cycle starts from: the federation's policy and the committed global state the epoch builds on.</summary>
/// <param name="Aggregate">The last committed aggregate (null before the first commit: the genesis state).</param>
public sealed record CycleInput(FederationPolicy Policy, KeyFingerprint Node, long Epoch, Sha256Digest BaseStateHash, JsonObject? Aggregate)
{
    /// <summary>The JSON an external cycle reads on stdin (docs/operator-guide.md, "Node agents").</summary>
    public JsonObject ToJson() => new()
    {
        ["federation"] = Policy.FederationId,
        ["node"] = Node.ToString(),
        ["epoch"] = Epoch,
        ["base_state_hash"] = BaseStateHash.ToString(),
        ["aggregation"] = Policy.Aggregation == AggregationKind.Vector ? "vector" : "canon",
        ["vector_dimension"] = Policy.VectorDimension,
        ["aggregate"] = Aggregate?.DeepClone(),
    };
}

/// <summary>A node's local cycle: from the global state to this epoch's delta.</summary>
public interface ILocalCycle
{
    Task<UpdateDelta> RunAsync(CycleInput input, CancellationToken ct);
}

/// <summary>
/// The built-in cycle: the committed aggregate (zeros at genesis) moved by a small step derived from the node's key, the
/// epoch and the base state (SHA-256 → values in [−0.05, 0.05)), so honest nodes stay close to each other and every
/// run from the same keys and states gives the same deltas. Canon federations get three entries whose revision is the epoch.
/// </summary>
public sealed class SyntheticCycle : ILocalCycle
{
    public Task<UpdateDelta> RunAsync(CycleInput input, CancellationToken ct)
    {
        var seed = Encoding.UTF8.GetBytes($"{input.Node}|{input.Epoch}|{input.BaseStateHash}");
        if (input.Policy.Aggregation == AggregationKind.Canon)
        {
            var entries = new Dictionary<string, CanonEntry>(StringComparer.Ordinal);
            for (var i = 0; i < 3; i++)
            {
                entries[$"sig-{i}"] = new CanonEntry(input.Epoch, Math.Clamp(0.8 + Step(seed, i), 0, 1), $"patch-{input.Epoch}-{i}");
            }

            return Task.FromResult(UpdateDelta.Canon(entries));
        }

        var previous = input.Aggregate?["values"] as JsonArray;
        var values = new double[input.Policy.VectorDimension];
        for (var i = 0; i < values.Length; i++)
        {
            var basis = previous is not null && i < previous.Count ? previous[i]!.GetValue<double>() : 0;
            values[i] = Math.Round(basis + Step(seed, i), 9);
        }

        return Task.FromResult(UpdateDelta.Vector(values));
    }

    private static double Step(byte[] seed, int index)
    {
        var block = Sha256Digest.Of([.. seed, .. BitConverter.GetBytes(index)]).ToArray();
        return (BinaryPrimitives.ReadUInt32BigEndian(block) / (double)uint.MaxValue - 0.5) / 10;
    }
}

/// <summary>
/// <c>--cycle CMD</c>: an external program (run through <c>/bin/sh -c</c>) reads the <see cref="CycleInput"/> JSON on stdin
/// and writes the delta on stdout — <c>{"kind":"vector","values":[…]}</c> or <c>{"kind":"canon","entries":{…}}</c>
/// (docs/formats/update-payload.md) — and exits 0. Its output is bounded and checked against the policy like any update.
/// </summary>
public sealed class ExternalCycle(string command, TimeSpan timeout) : ILocalCycle
{
    /// <summary>The largest output read from the program.</summary>
    public const int MaxOutputBytes = 8 * 1024 * 1024;

    public async Task<UpdateDelta> RunAsync(CycleInput input, CancellationToken ct)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info) ?? throw new CycleException($"--cycle: \"{command}\" could not be started");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            await process.StandardInput.BaseStream.WriteAsync(CanonicalJson.Write(input.ToJson()), limit.Token);
            process.StandardInput.Close();
            var output = await ReadBoundedAsync(process.StandardOutput.BaseStream, limit.Token);
            await process.WaitForExitAsync(limit.Token);
            if (process.ExitCode != 0)
            {
                throw new CycleException($"--cycle: \"{command}\" exited {process.ExitCode}: {(await stderr).Trim()}");
            }

            try
            {
                // Decoding it the way the coordinator decodes a payload checks the kind, the dimension and every value.
                var compressed = UpdateDelta.Compress(CanonicalJson.Write(CanonicalJson.Parse(output)));
                return UpdatePayload.Decode(compressed, input.Policy);
            }
            catch (Exception ex) when (ex is FormatException or CanonicalJsonException or PayloadException or InvalidOperationException)
            {
                throw new CycleException($"--cycle: \"{command}\" wrote no usable delta: {ex.Message}");
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new CycleException($"--cycle: \"{command}\" took longer than {timeout.TotalSeconds:0.#} s");
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream stream, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxOutputBytes)
            {
                throw new CycleException($"--cycle wrote more than {MaxOutputBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>A local cycle that produced no delta: the node skips the epoch and says why.</summary>
public sealed class CycleException(string message) : Exception(message);
