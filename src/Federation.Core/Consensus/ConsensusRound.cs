using Federation.Core.Hashing;

namespace Federation.Core.Consensus;

/// <summary>What one validator's replica said after a step: messages for every other validator, and where it stands.</summary>
public readonly record struct ReplicaReport(IReadOnlyList<byte[]> Outbound, Sha256Digest? Committed, long View, IReadOnlyList<byte[]> Evidence);

/// <summary>How an epoch's vote ended: the committed digest (and which validator's certificate to apply), or why not.</summary>
/// <param name="CertificateFrom">Index of the first validator that committed: its commit certificate is the decision's.</param>
public sealed record ConsensusResult(Sha256Digest? Digest, int CertificateFrom, long View, string? Failure, IReadOnlyList<byte[]> Evidence)
{
    public bool Committed => Failure is null;
}

/// <summary>
/// The network between one epoch's validators as the aggregator runs it (PBFT relay, docs/formats/consensus.md):
/// every message a validator sends is delivered to every other, in the order sent; when the network is quiet and
/// fewer than 2f + 1 have committed, the view timer expires (doubling each time) up to a bound on view changes.
/// Pure: the caller delivers (a grain call, or the simulator's direct call) and reports each replica's answer.
/// </summary>
public sealed class ConsensusRound
{
    private readonly ValidatorSet _set;
    private readonly int _maxViewChanges;
    private readonly Queue<(int From, byte[] Message)> _queue = new();
    private readonly ReplicaReport?[] _reports;
    private readonly List<byte[]> _evidence = [];
    private (int From, byte[] Message)? _delivering;
    private int _nextRecipient;
    private int _viewChanges;

    public ConsensusRound(ValidatorSet set, TimeSpan viewTimeout, int maxViewChanges)
    {
        if (viewTimeout <= TimeSpan.Zero || maxViewChanges < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(viewTimeout), $"a view timeout must be positive and the view-change bound not negative (got {viewTimeout}, {maxViewChanges})");
        }

        _set = set;
        _maxViewChanges = maxViewChanges;
        _reports = new ReplicaReport?[set.N];
        NextTimeout = viewTimeout;
    }

    /// <summary>How long the network stays quiet before the next view timer expires.</summary>
    public TimeSpan NextTimeout { get; private set; }

    /// <summary>View timers expired so far.</summary>
    public int ViewChanges => _viewChanges;

    public int Committed => _reports.Count(r => r?.Committed is not null);

    /// <summary>Nothing more to do: 2f + 1 validators committed, or the view-change bound is reached.</summary>
    public bool IsDecided => _delivering is null && _queue.Count == 0 && (Committed >= _set.CommitQuorum || _viewChanges >= _maxViewChanges);

    /// <summary>Takes in a replica's answer: its outbound messages join the end of the queue.</summary>
    public void Report(int validator, ReplicaReport report)
    {
        _reports[validator] = report with { Outbound = [] };
        _evidence.AddRange(report.Evidence);
        foreach (var message in report.Outbound)
        {
            _queue.Enqueue((validator, message));
        }
    }

    /// <summary>The next delivery: the oldest message, to each other validator in index order. False when the network is quiet.</summary>
    public bool TryNextDelivery(out int to, out byte[] message)
    {
        while (true)
        {
            if (_delivering is { } current)
            {
                while (_nextRecipient < _set.N && _nextRecipient == current.From)
                {
                    _nextRecipient++;
                }

                if (_nextRecipient < _set.N)
                {
                    (to, message) = (_nextRecipient++, current.Message);
                    return true;
                }

                _delivering = null;
            }

            if (!_queue.TryDequeue(out var next))
            {
                (to, message) = (-1, []);
                return false;
            }

            (_delivering, _nextRecipient) = (next, 0);
        }
    }

    /// <summary>The view timer expired on a quiet network: the validators that have not committed, to be told so.</summary>
    public IReadOnlyList<int> ExpireView()
    {
        if (IsDecided || _delivering is not null || _queue.Count > 0)
        {
            throw new InvalidOperationException("a view expires only on a quiet network of an undecided round");
        }

        _viewChanges++;
        NextTimeout *= 2;
        return Enumerable.Range(0, _set.N).Where(i => _reports[i]?.Committed is null).ToList();
    }

    /// <summary>The outcome, once decided. Safety is the replicas' to keep; if it ever broke, it is a failure, loudly.</summary>
    public ConsensusResult Result()
    {
        if (!IsDecided)
        {
            throw new InvalidOperationException("the round is not decided yet");
        }

        var committed = Enumerable.Range(0, _set.N).Where(i => _reports[i]?.Committed is not null).ToList();
        var digests = committed.Select(i => _reports[i]!.Value.Committed!.Value).Distinct().ToList();
        if (digests.Count > 1)
        {
            return new ConsensusResult(null, -1, 0, $"validators committed {digests.Count} different digests: refusing to apply", _evidence);
        }

        if (committed.Count < _set.CommitQuorum)
        {
            var views = string.Join(", ", Enumerable.Range(0, _set.N).Select(i => $"{_set.Ids[i]}@view{_reports[i]?.View ?? 0}"));
            return new ConsensusResult(null, -1, _reports.Max(r => r?.View ?? 0),
                $"no 2f + 1 = {_set.CommitQuorum} validators committed after {_maxViewChanges} view changes ({views}); more than f = {_set.F} validators are faulty or unreachable: halted safely, nothing applied",
                _evidence);
        }

        var first = committed[0];
        return new ConsensusResult(digests[0], first, _reports[first]!.Value.View, null, _evidence);
    }
}
