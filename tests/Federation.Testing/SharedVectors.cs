using System.Text.Json;

namespace Federation.Testing;

/// <summary>Finds the repository root and the published vectors in <c>../shared/vectors</c> beside it.</summary>
public static class SharedVectors
{
    public static JsonDocument Load(string fileName) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory(), fileName)));

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Federation.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (Federation.Orleans.sln) above " + AppContext.BaseDirectory);
    }

    public static string Directory()
    {
        var vectors = Path.Combine(System.IO.Directory.GetParent(RepositoryRoot())!.FullName, "shared", "vectors");
        return System.IO.Directory.Exists(vectors)
            ? vectors
            : throw new DirectoryNotFoundException($"the published vectors are expected in {vectors} (shared/ beside the repository)");
    }
}
