using System.Text.RegularExpressions;

namespace Federation.Storage.Scrolls;

/// <summary>
/// Scroll names become file and directory names, so they are restricted: lowercase letters, digits,
/// '.', '_' and '-', starting with a letter or digit, at most 64 characters, and never "..".
/// Tenant-scoped names such as <c>fed1.updates</c> are valid.
/// </summary>
public static partial class ScrollNames
{
    public const string Rule = "a scroll name must match ^[a-z0-9][a-z0-9._-]{0,63}$ and must not contain \"..\"";

    public static bool IsValid(string? name) =>
        name is not null && Pattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    /// <exception cref="ArgumentException">The name breaks <see cref="Rule"/>; the message quotes the name and the rule.</exception>
    public static string Validate(string? name, string parameterName = "scroll")
    {
        if (!IsValid(name))
        {
            throw new ArgumentException($"invalid scroll name \"{name}\": {Rule}", parameterName);
        }

        return name!;
    }

    // \z rather than $: $ also matches before a final newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
