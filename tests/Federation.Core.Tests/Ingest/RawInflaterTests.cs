using System.Buffers;
using System.IO.Compression;
using Federation.Core.Ingest;

namespace Federation.Core.Tests.Ingest;

public sealed class RawInflaterTests
{
    private static byte[] Deflate(byte[] data, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, level, leaveOpen: true))
        {
            deflate.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] Inflate(byte[] compressed, int limit)
    {
        var (buffer, length) = RawInflater.Inflate(compressed, limit);
        try
        {
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static PayloadException Refused(byte[] compressed, int limit) =>
        Assert.Throws<PayloadException>(() => RawInflater.Inflate(compressed, limit));

    [Theory]
    [InlineData(1)]
    [InlineData(300)]
    [InlineData(70_000)]
    [InlineData(1_000_000)]
    public void Round_trips_what_DeflateStream_compressed(int size)
    {
        var random = new Random(size);
        // Half random bytes, half text: both stored and compressed blocks.
        var data = new byte[size];
        random.NextBytes(data.AsSpan(0, size / 2));
        for (var i = size / 2; i < size; i++)
        {
            data[i] = (byte)"federation "[i % 11];
        }

        foreach (var level in new[] { CompressionLevel.NoCompression, CompressionLevel.Fastest, CompressionLevel.SmallestSize })
        {
            Assert.Equal(data, Inflate(Deflate(data, level), 2_000_000));
        }
    }

    [Fact]
    public void Output_exactly_at_the_limit_is_accepted_and_one_byte_more_is_refused()
    {
        var data = new byte[5000];
        new Random(1).NextBytes(data);
        Assert.Equal(data, Inflate(Deflate(data), 5000));
        var refusal = Refused(Deflate([.. data, 7]), 5000);
        Assert.Equal(RefusalCode.OversizedPayload, refusal.Code);
        Assert.Contains("limit of 5000 bytes", refusal.Message);
    }

    [Fact]
    public void A_decompression_bomb_stops_at_the_limit()
    {
        var bomb = Deflate(new byte[64 * 1024 * 1024], CompressionLevel.SmallestSize); // 64 MiB of zeros in ~65 KB
        Assert.True(bomb.Length < 100_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var refusal = Refused(bomb, 65_536);
        Assert.Equal(RefusalCode.OversizedPayload, refusal.Code);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 * 1024 * 1024, "the bomb was inflated far past the limit");
    }

    [Fact]
    public void Truncated_data_is_refused()
    {
        var compressed = Deflate("""{"kind":"vector","values":[1,2,3]}"""u8.ToArray());
        var refusal = Refused(compressed[..^2], 65_536);
        Assert.Equal(RefusalCode.MalformedPayload, refusal.Code);
        Assert.Contains("ends before its final block", refusal.Message);
        Assert.Contains("ends before its final block", Refused([], 65_536).Message);
    }

    [Fact]
    public void Bytes_after_the_final_block_are_refused()
    {
        var compressed = Deflate("""{"kind":"vector","values":[1,2,3]}"""u8.ToArray());
        var refusal = Refused([.. compressed, 0x00, 0x01], 65_536);
        Assert.Equal(RefusalCode.MalformedPayload, refusal.Code);
        Assert.Contains("2 bytes follow the end of the DEFLATE stream", refusal.Message);
    }

    [Fact]
    public void Invalid_data_is_refused_with_zlibs_reason_and_the_next_payload_still_inflates()
    {
        var refusal = Refused([0xff, 0xff, 0xff, 0xff], 65_536); // block type 3 is reserved
        Assert.Equal(RefusalCode.MalformedPayload, refusal.Code);
        Assert.Contains("not raw DEFLATE data: invalid block type", refusal.Message);

        // The thread's stream is reset after a failure: a valid payload inflates on the same thread.
        var data = "still fine"u8.ToArray();
        Assert.Equal(data, Inflate(Deflate(data), 100));
    }

    [Fact]
    public void Threads_inflate_independently()
    {
        var inputs = Enumerable.Range(0, 32).Select(i => Enumerable.Range(0, 100 + (i * 37)).Select(j => (byte)(i * j)).ToArray()).ToArray();
        var compressed = inputs.Select(i => Deflate(i)).ToArray();
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            Assert.Equal(inputs[n % 32], Inflate(compressed[n % 32], 10_000));
            if (n % 7 == 0)
            {
                Refused(compressed[n % 32][..^1], 10_000);
            }
        });
    }
}
