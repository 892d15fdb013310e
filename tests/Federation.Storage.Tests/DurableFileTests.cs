using Federation.Storage.Files;

namespace Federation.Storage.Tests;

public class DurableFileTests
{
    [Fact]
    public void WriteAtomic_replaces_the_whole_file_and_leaves_no_temporary_files()
    {
        using var dir = new TempDirectory();
        var path = dir.File("state.json");
        DurableFile.WriteAtomic(path, "first"u8);
        DurableFile.WriteAtomic(path, "second"u8);
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriteAtomic_without_overwrite_keeps_the_existing_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("key");
        DurableFile.WriteAtomic(path, "original"u8, overwrite: false);
        Assert.Throws<IOException>(() => DurableFile.WriteAtomic(path, "replacement"u8, overwrite: false));
        Assert.Equal("original", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriteAtomic_creates_files_with_the_requested_mode_and_missing_directories()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "a", "b", "secret");
        DurableFile.WriteAtomic(path, "s"u8, DurableFile.OwnerOnly);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void SyncDirectory_fails_clearly_for_a_missing_directory()
    {
        var ex = Assert.Throws<IOException>(() => DurableFile.SyncDirectory("/nonexistent/dir/for/fsync"));
        Assert.Contains("/nonexistent/dir/for/fsync", ex.Message);
    }
}
