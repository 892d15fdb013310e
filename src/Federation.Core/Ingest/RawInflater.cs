using System.Buffers;
using System.Runtime.InteropServices;

namespace Federation.Core.Ingest;

/// <summary>
/// Raw DEFLATE (RFC 1951) decompression with zlib (Debian package <c>zlib1g</c>), one stream per thread reset
/// between payloads: setting a stream up (state and a 32 KiB window) costs more than inflating a typical update.
/// Strict: the data must end exactly with its final block, and the output may not pass a limit (decompression
/// bombs stop there, having produced at most the limit plus one buffer).
/// </summary>
public static unsafe partial class RawInflater
{
    private const string Library = "libz.so.1";
    private const int ZOk = 0, ZStreamEnd = 1, ZNeedDict = 2, ZDataError = -3, ZMemError = -4, ZBufError = -5;
    private const int ZNoFlush = 0;

    [ThreadStatic]
    private static InflateStream? t_stream;

    /// <summary>
    /// Inflates <paramref name="compressed"/> into a buffer rented from <see cref="ArrayPool{T}.Shared"/> (return it
    /// when done); <c>Length</c> bytes of it are the output.
    /// </summary>
    /// <exception cref="PayloadException">Not raw DEFLATE data, truncated, followed by other bytes, or inflating past <paramref name="maxOutputBytes"/>.</exception>
    public static (byte[] Buffer, int Length) Inflate(ReadOnlySpan<byte> compressed, int maxOutputBytes)
    {
        var stream = t_stream ??= new InflateStream();
        var output = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(Math.Max(compressed.Length * 4L, 256), maxOutputBytes + 1L), Array.MaxLength));
        var length = 0;
        try
        {
            fixed (byte* input = compressed)
            {
                var z = stream.Reset();
                z->NextIn = input;
                z->AvailIn = (uint)compressed.Length;
                while (true)
                {
                    if (length == output.Length)
                    {
                        if (length > maxOutputBytes || length >= Array.MaxLength)
                        {
                            throw new PayloadException(RefusalCode.OversizedPayload, $"the payload inflates past the federation's limit of {maxOutputBytes} bytes");
                        }

                        // Here output.Length <= maxOutputBytes, so the new size is larger.
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Min(output.Length * 2L, maxOutputBytes + 1L), Array.MaxLength));
                        output.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(output);
                        output = larger;
                    }

                    int result;
                    fixed (byte* next = &output[length])
                    {
                        z->NextOut = next;
                        z->AvailOut = (uint)(output.Length - length);
                        result = inflate(z, ZNoFlush);
                        length = output.Length - (int)z->AvailOut;
                    }

                    if (length > maxOutputBytes)
                    {
                        throw new PayloadException(RefusalCode.OversizedPayload, $"the payload inflates past the federation's limit of {maxOutputBytes} bytes");
                    }

                    switch (result)
                    {
                        case ZStreamEnd when z->AvailIn == 0:
                            return (output, length);
                        case ZStreamEnd:
                            throw new PayloadException(RefusalCode.MalformedPayload, $"the payload is not raw DEFLATE data: {z->AvailIn} bytes follow the end of the DEFLATE stream");
                        case ZOk:
                            continue;
                        case ZBufError when z->AvailIn == 0:
                            throw new PayloadException(RefusalCode.MalformedPayload, "the payload is not raw DEFLATE data: the stream ends before its final block");
                        case ZBufError:
                            continue; // no room for output: the loop grows the buffer
                        case ZDataError or ZNeedDict:
                            throw new PayloadException(RefusalCode.MalformedPayload, $"the payload is not raw DEFLATE data: {Message(z) ?? "invalid data"}");
                        case ZMemError:
                            throw new OutOfMemoryException("zlib could not allocate memory to inflate a payload");
                        default:
                            throw new InvalidOperationException($"zlib inflate failed unexpectedly ({result}: {Message(z)})");
                    }
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(output);
            throw;
        }
    }

    private static string? Message(ZStream* z) => z->Msg is null ? null : Marshal.PtrToStringUTF8((nint)z->Msg);

    /// <summary>One zlib stream in native memory, freed when its thread's reference dies.</summary>
    private sealed class InflateStream
    {
        private readonly ZStream* _z;
        private bool _used;

        public InflateStream()
        {
            _z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            int result;
            try
            {
                result = inflateInit2_(_z, -15, zlibVersion(), sizeof(ZStream));
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                Abandon();
                throw new InvalidOperationException("zlib is not installed (libz.so.1 not found or incomplete): install the Debian package zlib1g", ex);
            }

            if (result != ZOk)
            {
                Abandon();
                throw new InvalidOperationException($"zlib inflateInit2 failed ({result})");
            }
        }

        // A stream that never initialised: free its memory now, and never let the finalizer call zlib for it (the
        // runtime finalizes objects whose constructor threw).
        private void Abandon()
        {
            NativeMemory.Free(_z);
            GC.SuppressFinalize(this);
        }

        public ZStream* Reset()
        {
            if (_used && inflateReset(_z) != ZOk)
            {
                throw new InvalidOperationException("zlib inflateReset failed");
            }

            _used = true;
            return _z;
        }

        ~InflateStream()
        {
            _ = inflateEnd(_z);
            NativeMemory.Free(_z);
        }
    }

    // zlib's z_stream on LP64 (uInt 32 bits, uLong 64 bits), passed with its size so zlib checks the layout.
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public byte* Msg;
        public void* State;
        public void* ZAlloc;
        public void* ZFree;
        public void* Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    [LibraryImport(Library)]
    private static partial byte* zlibVersion();

    [LibraryImport(Library)]
    private static partial int inflateInit2_(ZStream* strm, int windowBits, byte* version, int streamSize);

    [LibraryImport(Library)]
    private static partial int inflate(ZStream* strm, int flush);

    [LibraryImport(Library)]
    private static partial int inflateReset(ZStream* strm);

    [LibraryImport(Library)]
    private static partial int inflateEnd(ZStream* strm);
}
