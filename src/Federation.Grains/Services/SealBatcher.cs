using System.Collections.Concurrent;

namespace Federation.Grains.Services;

/// <summary>
/// The seals a silo's node grains ask of an update scroll, gathered into one grain call while the previous calls are
/// in flight (at most <see cref="MaxInFlight"/> per scroll) — the scroll's ledger then takes them into its group
/// commit together. Every node sends one update per epoch, so a grain call per seal was a grain call per update; now
/// it is one per batch (a few dozen to a few hundred updates under load, one when the silo is quiet: the first seal
/// is sent at once). It holds only requests in flight: nothing is acknowledged before the scroll's answer, and a
/// failed call fails every seal it carried, as a failed single call would.
/// </summary>
public sealed class SealBatcher(IGrainFactory grains)
{
    /// <summary>Calls in flight per scroll: one preparing while another waits for its fsync.</summary>
    public const int MaxInFlight = 2;

    /// <summary>Most seals one call carries.</summary>
    public const int MaxBatch = 512;

    private readonly ConcurrentDictionary<string, Queue> _queues = new(StringComparer.Ordinal);

    /// <summary>Seals <paramref name="seal"/> in <paramref name="scroll"/>: the scroll grain's answer to it.</summary>
    public Task<UpdateSealing> SealAsync(string scroll, UpdateSeal seal) =>
        _queues.GetOrAdd(scroll, name => new Queue(grains.GetGrain<IScrollGrain>(name))).Enqueue(seal);

    private sealed class Queue(IScrollGrain scroll)
    {
        private readonly Lock _lock = new();
        private List<(UpdateSeal Seal, TaskCompletionSource<UpdateSealing> Answer)> _pending = [];
        private int _inFlight;

        public Task<UpdateSealing> Enqueue(UpdateSeal seal)
        {
            var answer = new TaskCompletionSource<UpdateSealing>();
            bool send;
            lock (_lock)
            {
                _pending.Add((seal, answer));
                send = _inFlight < MaxInFlight;
                if (send)
                {
                    _inFlight++;
                }
            }

            if (send)
            {
                // Off the calling grain's scheduler: the loop must not run as a turn of whichever node grain started it.
                _ = Task.Run(SendAsync);
            }

            return answer.Task;
        }

        private async Task SendAsync()
        {
            while (true)
            {
                List<(UpdateSeal Seal, TaskCompletionSource<UpdateSealing> Answer)> batch;
                lock (_lock)
                {
                    if (_pending.Count == 0)
                    {
                        _inFlight--;
                        return;
                    }

                    if (_pending.Count <= MaxBatch)
                    {
                        (batch, _pending) = (_pending, []);
                    }
                    else
                    {
                        batch = _pending[..MaxBatch];
                        _pending.RemoveRange(0, MaxBatch);
                    }
                }

                try
                {
                    var answers = await scroll.AppendUpdatesAsync([.. batch.Select(b => b.Seal)]);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Answer.SetResult(answers[i]);
                    }
                }
                catch (Exception ex)
                {
                    foreach (var (_, answer) in batch)
                    {
                        answer.TrySetException(ex);
                    }
                }
            }
        }
    }
}
