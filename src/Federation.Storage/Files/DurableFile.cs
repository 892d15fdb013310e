using System.Runtime.InteropServices;

namespace Federation.Storage.Files;

/// <summary>
/// Writes that survive a crash once they return: data fsynced, then the rename, then the directory.
/// Used for state snapshots and key files (ARCHITECTURE.md: temp file, fsync, rename).
/// </summary>
public static partial class DurableFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerWriteWorldRead = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Atomically replaces (or creates) <paramref name="path"/> with <paramref name="contents"/>:
    /// readers see the old file or the new one, never a mix, and the new one is on disk when this returns.
    /// </summary>
    /// <param name="overwrite">When false, an existing file is an error and is left untouched.</param>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> contents, UnixFileMode mode = OwnerWriteWorldRead, bool overwrite = true)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        if (!overwrite && File.Exists(full))
        {
            throw new IOException($"{path} already exists; refusing to overwrite it");
        }

        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, UnixCreateMode = mode };
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            // Without overwrite, the move fails rather than replace a file created meanwhile.
            File.Move(temp, full, overwrite);

            SyncDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>fsync(2) on a directory, so a rename or a new file in it is durable.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = Open(directory, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// fdatasync(2): the file's data (and the metadata needed to read it) on disk. For an overwrite in place that does not
    /// change the file's size it skips the journal commit a full fsync makes.
    /// </summary>
    public static void DataSync(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            if (FDataSync((int)file.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000; // Linux x86-64 and arm64.

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
