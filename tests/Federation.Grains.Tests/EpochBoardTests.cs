using Federation.Core.Hashing;
using Federation.Grains.Services;

namespace Federation.Grains.Tests;

public class EpochBoardTests
{
    private static EpochInfo Epoch(long open, long? closing) =>
        new(open, closing, Sha256Digest.Of("s"u8), new Dictionary<long, Sha256Digest> { [open] = Sha256Digest.Of("s"u8) });

    [Fact]
    public void Only_what_admits_an_update_is_answered_from_the_board()
    {
        var board = new EpochBoard();
        Assert.False(board.TryGetAdmitting("f", 1, out _)); // nothing published: ask the federation grain

        board.Publish("f", Epoch(open: 3, closing: null));
        Assert.True(board.TryGetAdmitting("f", 3, out var open));
        Assert.Equal(3, open.OpenEpoch);
        Assert.True(board.TryGetAdmitting("f", 2, out _)); // late: recorded, not aggregated
        Assert.False(board.TryGetAdmitting("f", 4, out _)); // future: the grain decides (it may be opening it)
        Assert.False(board.TryGetAdmitting("g", 3, out _)); // federations are apart

        board.Publish("f", Epoch(open: 3, closing: 3));
        Assert.False(board.TryGetAdmitting("f", 3, out _)); // closing: the grain decides
    }
}
