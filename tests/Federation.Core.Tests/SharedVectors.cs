using System.Text.Json;

namespace Federation.Core.Tests;

/// <summary>Finds the published vectors in <c>../shared/vectors</c> beside the repository.</summary>
public static class SharedVectors
{
    public static JsonDocument Load(string fileName)
    {
        var path = Path.Combine(Directory(), fileName);
        return JsonDocument.Parse(File.ReadAllText(path));
    }

    public static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Federation.Orleans.sln")))
            {
                var vectors = Path.Combine(dir.Parent!.FullName, "shared", "vectors");
                if (!System.IO.Directory.Exists(vectors))
                {
                    throw new DirectoryNotFoundException($"the published vectors are expected in {vectors} (shared/ beside the repository)");
                }

                return vectors;
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (Federation.Orleans.sln) above " + AppContext.BaseDirectory);
    }
}
