using Federation.Storage.Scrolls;

namespace Federation.Storage.Tests.Scrolls;

/// <summary>Records what a store delivers and notes any break of "each line once, in seq order".</summary>
public sealed class RecordingObserver
{
    private readonly object _sync = new();
    private readonly List<byte[]> _lines = [];
    private readonly List<string> _violations = [];

    public CommittedLinesObserver Observer => Observe;

    public IReadOnlyList<byte[]> Lines
    {
        get
        {
            lock (_sync)
            {
                return [.. _lines];
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_sync)
            {
                return [.. _violations];
            }
        }
    }

    public int Calls { get; private set; }

    public int LargestDelivery { get; private set; }

    private void Observe(long firstSeq, IReadOnlyList<byte[]> lines)
    {
        lock (_sync)
        {
            Calls++;
            LargestDelivery = Math.Max(LargestDelivery, lines.Count);
            if (firstSeq != _lines.Count)
            {
                _violations.Add($"delivery starts at seq {firstSeq} but {_lines.Count} lines were seen");
            }

            if (lines.Count == 0)
            {
                _violations.Add($"empty delivery at seq {firstSeq}");
            }

            _lines.AddRange(lines);
        }
    }

    /// <summary>Forget lines from <paramref name="size"/> on, as the ledger does after a truncation.</summary>
    public void CutTo(int size)
    {
        lock (_sync)
        {
            _lines.RemoveRange(size, _lines.Count - size);
        }
    }
}
