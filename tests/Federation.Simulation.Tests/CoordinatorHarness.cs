using Federation.Core.Consensus;
using Federation.Core.Crypto;
using Federation.Core.Hashing;
using Federation.Core.Ingest;
using Federation.Core.Membership;
using Federation.Core.Protocol;
using Federation.Core.Scrolls;
using Federation.Core.Signing;
using Federation.Simulation.Composition;
using Federation.Storage.Governance;
using Federation.Storage.Ledger;
using Federation.Storage.Scrolls;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Simulation.Tests;

/// <summary>A simulated coordinator of federation "t1" with four validators and a few registered, joined nodes, driven by a test step by step.</summary>
internal sealed class CoordinatorHarness : IAsyncDisposable
{
    public const string Federation = "t1";
    private static readonly string[] Capabilities = ["ingest.v1", "delta.vector.v1"];

    private readonly TempDirectory _directory = new();
    private readonly SimulationKeys _keys;
    private readonly CoordinatorSettings _settings;

    public CoordinatorHarness(int nodes, params ValidatorBehaviour[] behaviours)
        : this(1, nodes, behaviours)
    {
    }

    /// <summary>Keys (nodes, validators, governance, scrolls) derived from <paramref name="seed"/>.</summary>
    public CoordinatorHarness(long seed, int nodes, params ValidatorBehaviour[] behaviours)
    {
        _keys = new SimulationKeys("harness", seed);
        Clock.SetUtcNow(FederationSimulator.VirtualStart);
        Store = new CoordinatorStore(new MemoryScrollVolume(), new GovernanceLog(_directory.File(GovernanceLog.FileName)));
        _settings = new CoordinatorSettings(
            new FederationPolicy(Federation, AggregationKind.Vector, ["ingest.v1"], VectorDimension: 4),
            _keys.Get(SimulationKeys.Governance),
            Enumerable.Range(0, 4).Select(i => new SimulatedValidatorSettings("v" + i, _keys.Get(SimulationKeys.Validator, i), i < behaviours.Length ? behaviours[i] : ValidatorBehaviour.Honest)).ToList(),
            AggregationPolicy.DefaultVector,
            TimeSpan.FromSeconds(1),
            6);
        Nodes = Enumerable.Range(0, nodes).Select(i => _keys.Get(SimulationKeys.Node, i)).ToList();
        Coordinator = Start();
        Coordinator.RegisterNodes(Nodes.Select(n => (n.Fingerprint, TrustLevel.Federated, SyncPolicy.Bidirectional, (IReadOnlyList<string>)Capabilities)));
    }

    public FakeTimeProvider Clock { get; } = new();

    public CoordinatorStore Store { get; }

    public SimulatedCoordinator Coordinator { get; private set; }

    public IReadOnlyList<Ed25519PrivateKey> Nodes { get; }

    public Dictionary<int, string> Blocks { get; } = [];

    public string GovernanceLogText => File.Exists(Store.GovernanceLog.Path) ? File.ReadAllText(Store.GovernanceLog.Path) : string.Empty;

    /// <summary>Kills the coordinator and starts a new one over the same stores.</summary>
    public async Task CrashAndRestartAsync()
    {
        await Coordinator.CrashAsync();
        Coordinator = Start();
    }

    public async Task JoinAllAsync()
    {
        for (var i = 0; i < Nodes.Count; i++)
        {
            var key = Nodes[i];
            var hello = await Coordinator.HelloAsync(Sign(FederationHello.Create(Federation, key.Fingerprint, "1.0", Capabilities, "n" + i), key));
            Assert.True(hello.Accepted, hello.Message);
            var accept = SignedEnvelope.Parse(hello.Accept!);
            var session = await Coordinator.CompleteSessionAsync(Sign(SessionAck.Create(Federation, key.Fingerprint, accept.PayloadAs<FederationAccept>().SessionId, Sha256Digest.Of(accept.SignedBytes)), key));
            Assert.True(session.Active, session.Message);
            Blocks[i] = session.LedgerBlockId!;
        }
    }

    /// <summary>Node <paramref name="node"/>'s signed update for <paramref name="epoch"/> (a small per-node offset; <paramref name="shift"/> makes a different one).</summary>
    public byte[] Update(int node, long epoch, double shift = 0) =>
        UpdateBy(Nodes[node], Blocks[node], epoch, Coordinator.Epoch.BaseStates[epoch], 1 + (0.001 * node) + shift);

    /// <summary>A signed update of any key, with every field the test's to choose.</summary>
    public static byte[] UpdateBy(Ed25519PrivateKey key, string block, long epoch, Sha256Digest baseState, double first = 1, string federation = Federation)
    {
        var (payload, hash) = UpdateDelta.Vector([first, 2, 3, 4]).Encode();
        return Sign(MetaUpdate.Create(federation, epoch, key.Fingerprint, hash, block, baseState, payload), key);
    }

    /// <summary>A key derived from the harness seed that governance never registers.</summary>
    public Ed25519PrivateKey Stranger(int index = 0) => _keys.Get(SimulationKeys.Imposter, index);

    public static byte[] Hello(Ed25519PrivateKey key, string federation = Federation) =>
        Sign(FederationHello.Create(federation, key.Fingerprint, "1.0", Capabilities, "n"), key);

    /// <summary>Every stored receipt of a scroll, in order.</summary>
    public async Task<IReadOnlyList<Receipt>> ReceiptsAsync(string scroll)
    {
        var ledger = await ScrollAsync(scroll);
        var receipts = new List<Receipt>();
        await foreach (var (_, line) in ledger.ReadAsync(0, ledger.Size))
        {
            receipts.Add(Receipt.Parse(line));
        }

        return receipts;
    }

    /// <summary>What the stores hold, as text: every scroll's size and root, and the governance log.</summary>
    public async Task<string> StoredStateAsync()
    {
        var text = new System.Text.StringBuilder();
        foreach (var scroll in FederationScrolls.All(Federation))
        {
            var ledger = await ScrollAsync(scroll);
            text.Append(scroll).Append(' ').Append(ledger.Size).Append(' ').Append(ledger.Root(ledger.Size)).Append('\n');
        }

        return text.Append(GovernanceLogText).ToString();
    }

    public async Task<ScrollLedger> ScrollAsync(string scroll) => await Coordinator.Ledgers.GetAsync(scroll);

    public async Task<Receipt> ReceiptAsync(string receiptId)
    {
        var ledger = await ScrollAsync(receiptId[..receiptId.LastIndexOf(':')]);
        var seq = long.Parse(receiptId[(receiptId.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        await foreach (var (_, line) in ledger.ReadAsync(seq, seq + 1))
        {
            return Receipt.Parse(line);
        }

        throw new InvalidOperationException($"no receipt {receiptId}");
    }

    /// <summary>What <see cref="EpochComputation"/> decides for an epoch, computed here from the update and governance scrolls as they stand.</summary>
    public async Task<EpochOutcome> ComputeDirectlyAsync(long epoch, IReadOnlyDictionary<string, int>? streaks = null)
    {
        var updates = await ScrollAsync(FederationScrolls.Updates(Federation));
        var governance = await ScrollAsync(FederationScrolls.Governance(Federation));
        var active = new List<KeyFingerprint>();
        foreach (var node in Nodes)
        {
            if ((await Coordinator.NodeRecordAsync(node.Fingerprint))?.Status == NodeStatus.Active)
            {
                active.Add(node.Fingerprint);
            }
        }

        return EpochComputation.Compute(epoch, Coordinator.Epoch.BaseStates[epoch], await EpochInputsReader.ReadUpdatesAsync(updates, epoch, updates.Size), active,
            _settings.Policy, _settings.Aggregation, streaks ?? new Dictionary<string, int>(), await EpochInputsReader.ReadQuarantinedAtIngestAsync(governance, epoch));
    }

    public async ValueTask DisposeAsync()
    {
        await Coordinator.DisposeAsync();
        _keys.Dispose();
        _directory.Dispose();
    }

    private SimulatedCoordinator Start() => new(_settings, Store, _keys.Copy(SimulationKeys.Scroll), Clock);

    public static byte[] Sign<T>(T payload, Ed25519PrivateKey key) => SignedEnvelope.Sign(payload, new Ed25519Signer(key)).ToCanonicalJson();
}
