using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Federation.Grains.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Federation.Cli.Bench;

/// <summary>
/// <c>fed bench grains</c>: an Orleans silo (localhost clustering, memory storage) beside the raw limits measured in the same run —
/// call round trips vs. a <see cref="Channel{T}"/> ping-pong of the same shape, bytes per idle activation vs. a
/// bare dictionary entry, activation + collection churn vs. bare dictionary insert + remove.
/// </summary>
public sealed class GrainsBenchSuite : IBenchSuite
{
    private const int FullActivations = 100_000;
    private const int QuickActivations = 10_000;
    private const int FullRounds = 7;
    private const int QuickRounds = 3;

    /// <summary>Total measuring time of each side of a call comparison.</summary>
    private static readonly TimeSpan FullDuration = TimeSpan.FromSeconds(7);
    private static readonly TimeSpan QuickDuration = TimeSpan.FromSeconds(1.5);

    public string Name => "grains";

    public string Description => "Orleans silo: call round trips, memory per idle activation, activation churn (beside Channel<T> and dictionary baselines)";

    public async Task<BenchReport> RunAsync(bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var duration = quick ? QuickDuration : FullDuration;
        var rounds = quick ? QuickRounds : FullRounds;
        var activations = quick ? QuickActivations : FullActivations;
        var results = new List<BenchResult>();

        using var host = await StartHostAsync(cancellationToken);

        // Warm up both paths (JIT, thread pool) before measuring.
        await ChannelPingPongAsync(TimeSpan.FromMilliseconds(200), 1);
        await GrainPingPongAsync(host, TimeSpan.FromMilliseconds(200), 1);

        // The machine is shared (2 cores): rounds alternate between baseline and grain host so both see the
        // same background load, and each side reports its median round.
        var (channel, grain) = await AlternateAsync(rounds, () => ChannelPingPongAsync(RoundLength(duration, rounds), 1), () => GrainPingPongAsync(host, RoundLength(duration, rounds), 1));
        progress.WriteLine(Invariant($"1 caller: grain calls {grain:N0}/s; channel ping-pong {channel:N0} round trips/s (median of {rounds} alternating rounds)"));
        results.Add(new BenchResult("grain_calls_per_s", Math.Round(grain), "calls/s",
            new BenchBaseline("channel_ping_pong_round_trips_per_s", Math.Round(channel), "round trips/s")));

        var channelBytes = await AllocatedPerOperationAsync(() => ChannelPingPongCountAsync(CountedCalls));
        var grainBytes = await AllocatedPerOperationAsync(() => GrainPingPongCountAsync(host, CountedCalls));
        progress.WriteLine(Invariant($"allocated per call: grain {grainBytes:N0} bytes; channel round trip {channelBytes:N0} bytes"));

        const int callers = 64;
        var (channelParallel, grainParallel) = await AlternateAsync(rounds, () => ChannelPingPongAsync(RoundLength(duration, rounds), callers), () => GrainPingPongAsync(host, RoundLength(duration, rounds), callers));
        progress.WriteLine(Invariant($"{callers} callers on {callers} grains: {grainParallel:N0} calls/s; {callers} channel pairs: {channelParallel:N0} round trips/s"));
        results.Add(new BenchResult($"grain_calls_per_s_{callers}_callers", Math.Round(grainParallel), "calls/s",
            new BenchBaseline($"channel_ping_pong_round_trips_per_s_{callers}_pairs", Math.Round(channelParallel), "round trips/s")));

        var entryBytes = DictionaryEntryBytes(activations);
        var activationBytes = await BytesPerIdleActivationAsync(host, activations);
        progress.WriteLine(Invariant($"{activations:N0} idle activations: {activationBytes:N0} bytes each ({activationBytes * FullActivations / (1024.0 * 1024 * 1024):N3} GiB per 100,000); bare dictionary entry {entryBytes:N0} bytes"));
        results.Add(new BenchResult("bytes_per_idle_activation", Math.Round(activationBytes), "bytes (lower is better; ratio = times the bare entry)",
            new BenchBaseline("bytes_per_dictionary_entry", Math.Round(entryBytes), "bytes")));

        var rawChurn = DictionaryChurnPerSecond(activations);
        var churn = await ActivationChurnPerSecondAsync(host, activations);
        progress.WriteLine(Invariant($"activation + collection churn: {churn:N0} activations/s; bare dictionary insert + remove: {rawChurn:N0}/s"));
        results.Add(new BenchResult("activations_per_s", Math.Round(churn), "activations/s (each activated, called once and collected)",
            new BenchBaseline("dictionary_insert_remove_per_s", Math.Round(rawChurn), "entries/s")));

        await host.StopAsync(cancellationToken);
        return new BenchReport(Name, results);
    }

    private static async Task<IHost> StartHostAsync(CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo => new SiloSettings { StorageProvider = SiloSettings.MemoryProvider, ReminderProvider = SiloSettings.MemoryProvider }.Apply(silo));
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return host;
    }

    private static IGrainFactory Grains(IHost host) => host.Services.GetRequiredService<IGrainFactory>();

    private static IManagementGrain Management(IHost host) => Grains(host).GetGrain<IManagementGrain>(0);

    private static async Task<int> ActivationCountAsync(IHost host) => await Management(host).GetTotalActivationCount();

    /// <summary>Calls made while counting allocations (a fixed count, so both sides do the same work).</summary>
    private const int CountedCalls = 200_000;

    /// <summary>Bytes allocated by the whole process per operation while <paramref name="run"/> does <see cref="CountedCalls"/> of them.</summary>
    private static async Task<double> AllocatedPerOperationAsync(Func<Task> run)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await run();
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)CountedCalls;
    }

    private static async Task ChannelPingPongCountAsync(int count)
    {
        var requests = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var replies = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var server = Task.Run(async () =>
        {
            await foreach (var request in requests.Reader.ReadAllAsync())
            {
                await replies.Writer.WriteAsync(request + 1);
            }
        });
        for (var i = 0; i < count; i++)
        {
            await requests.Writer.WriteAsync(i);
            _ = await replies.Reader.ReadAsync();
        }

        requests.Writer.Complete();
        await server;
    }

    private static async Task GrainPingPongCountAsync(IHost host, int count)
    {
        var grain = Grains(host).GetGrain<IBenchGrain>("counted");
        for (var i = 0; i < count; i++)
        {
            _ = await grain.Ping(i);
        }
    }

    private static TimeSpan RoundLength(TimeSpan duration, int rounds) => duration / rounds;

    /// <summary>Runs baseline and subject in alternating rounds; returns the median round of each.</summary>
    private static async Task<(double Baseline, double Subject)> AlternateAsync(int rounds, Func<Task<double>> baseline, Func<Task<double>> subject)
    {
        var baselines = new List<double>();
        var subjects = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            baselines.Add(await baseline());
            subjects.Add(await subject());
        }

        return (Median(baselines), Median(subjects));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>Request channel + reply channel between two tasks per pair: the raw cost of an async round trip.</summary>
    private static async Task<double> ChannelPingPongAsync(TimeSpan duration, int pairs)
    {
        var stopwatch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, pairs).Select(_ => Task.Run(async () =>
        {
            var requests = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var replies = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var server = Task.Run(async () =>
            {
                await foreach (var request in requests.Reader.ReadAllAsync())
                {
                    await replies.Writer.WriteAsync(request + 1);
                }
            });

            long count = 0;
            var started = Stopwatch.GetTimestamp();
            var limit = (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() - started < limit)
            {
                await requests.Writer.WriteAsync((int)count);
                _ = await replies.Reader.ReadAsync();
                count++;
            }

            requests.Writer.Complete();
            await server;
            return count;
        })));
        return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Callers each awaiting calls to their own grain in a loop (production scheduler).</summary>
    private static async Task<double> GrainPingPongAsync(IHost host, TimeSpan duration, int callers)
    {
        var stopwatch = Stopwatch.StartNew();
        var counts = await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            var grain = Grains(host).GetGrain<IBenchGrain>(string.Create(CultureInfo.InvariantCulture, $"ping-{i}"));
            long count = 0;
            var started = Stopwatch.GetTimestamp();
            var limit = (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() - started < limit)
            {
                _ = await grain.Ping((int)count);
                count++;
            }

            return count;
        })));
        return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task<double> BytesPerIdleActivationAsync(IHost host, int count)
    {
        await Management(host).ForceActivationCollection(TimeSpan.Zero);
        var live = await ActivationCountAsync(host);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await ActivateAsync(host, "idle", count);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var activated = await ActivationCountAsync(host) - live;
        if (activated < count)
        {
            throw new InvalidOperationException($"expected {count} new live activations, found {activated}");
        }

        var perActivation = (after - before) / (double)count;
        await Management(host).ForceActivationCollection(TimeSpan.Zero);
        return perActivation;
    }

    /// <summary>The floor under any catalog: one dictionary entry keyed by a grain id, holding one small object.</summary>
    private static double DictionaryEntryBytes(int count)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var dictionary = new ConcurrentDictionary<GrainId, object>();
        for (var i = 0; i < count; i++)
        {
            dictionary[GrainId.Create("bench", string.Create(CultureInfo.InvariantCulture, $"idle-{i}"))] = new object();
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(dictionary);
        return (after - before) / (double)count;
    }

    private static async Task<double> ActivationChurnPerSecondAsync(IHost host, int count)
    {
        var live = await ActivationCountAsync(host);
        var stopwatch = Stopwatch.StartNew();
        await ActivateAsync(host, "churn", count);
        await Management(host).ForceActivationCollection(TimeSpan.Zero);
        stopwatch.Stop();
        var left = await ActivationCountAsync(host);
        if (left > live)
        {
            throw new InvalidOperationException($"churn: {left - live} of {count} activations still live after collection");
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static double DictionaryChurnPerSecond(int count)
    {
        var dictionary = new ConcurrentDictionary<GrainId, object>();
        var keys = Enumerable.Range(0, count).Select(i => GrainId.Create("bench", string.Create(CultureInfo.InvariantCulture, $"raw-{i}"))).ToArray();
        var stopwatch = Stopwatch.StartNew();
        foreach (var key in keys)
        {
            dictionary[key] = new object();
        }

        foreach (var key in keys)
        {
            dictionary.TryRemove(key, out _);
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Activates <paramref name="count"/> grains with a bounded number of calls in flight.</summary>
    private static async Task ActivateAsync(IHost host, string prefix, int count)
    {
        const int InFlight = 256;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await Grains(host).GetGrain<IBenchGrain>(string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}")).Touch();
            }
        })));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The benchmark's grain: as little work as a grain can do.</summary>
public interface IBenchGrain : IGrainWithStringKey
{
    Task<int> Ping(int value);

    Task Touch();
}

[GrainType("bench")]
public sealed class BenchGrain : Grain, IBenchGrain
{
    public Task<int> Ping(int value) => Task.FromResult(value + 1);

    public Task Touch() => Task.CompletedTask;
}
