namespace Federation.Testing;

/// <summary>A temporary directory removed after the test.</summary>
public sealed class TempDirectory : IDisposable
{
    private const int DeleteAttempts = 50;
    private static readonly TimeSpan DeleteRetryDelay = TimeSpan.FromMilliseconds(100);

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fed-test-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Deletes the tree. A silo killed by a test can still finish a write that was in flight (a grain state, a log
    /// line) while the tree is being deleted, which fails the delete with "directory not empty": it is retried for
    /// up to five seconds, so that tests leave nothing in the temp folder.
    /// </summary>
    public void Dispose()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Path))
                {
                    Directory.Delete(Path, recursive: true);
                }

                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && attempt < DeleteAttempts)
            {
                Thread.Sleep(DeleteRetryDelay);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"could not remove the test directory {Path}: {e.Message}");
                return;
            }
        }
    }
}
