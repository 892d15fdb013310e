using System.Security.Cryptography;
using System.Text.Json;
using Federation.Core.Crypto;

namespace Federation.Cli;

/// <summary>Exit codes shared by every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The input was usable and the answer is "no" (a signature that does not verify, a failed check).</summary>
    public const int Failed = 1;

    /// <summary>The input could not be used (missing file, malformed key, bad arguments).</summary>
    public const int UnusableInput = 2;

    /// <summary>A bug: the message names it; please report it.</summary>
    public const int InternalError = 70;
}

/// <summary>
/// Where commands write, and the one place that turns exceptions into a single clear line on
/// stderr with an exit code (never a stack trace).
/// </summary>
public sealed class CliConsole(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public int Fail(string message)
    {
        Error.WriteLine($"fed: {message}");
        return ExitCodes.Failed;
    }

    public int Unusable(string message)
    {
        Error.WriteLine($"fed: {message}");
        return ExitCodes.UnusableInput;
    }

    /// <summary>Runs a command body, mapping expected failures to exit 2 with their message.</summary>
    public int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException
                                       or JsonException or ArgumentException or CryptographicException
                                       or CryptoUnavailableException)
        {
            return Unusable(ex.Message);
        }
        catch (Exception ex)
        {
            Error.WriteLine($"fed: internal error ({ex.GetType().Name}): {ex.Message}");
            return ExitCodes.InternalError;
        }
    }

    /// <summary>The async form of <see cref="Run"/>; a halted ledger is a "no" (exit 1), not unusable input.</summary>
    public async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception ex) when (ex is Federation.Storage.Ledger.LedgerHaltedException or ScrollNotVerifiedException)
        {
            return Fail(ex.Message);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException
                                       or JsonException or ArgumentException or CryptographicException
                                       or CryptoUnavailableException or InvalidOperationException
                                       or System.Data.Common.DbException or System.Net.Sockets.SocketException
                                       or Federation.Core.Checkpoints.NoteVerificationException)
        {
            return Unusable(ex.Message);
        }
        catch (OperationCanceledException)
        {
            return Unusable("cancelled");
        }
        catch (Orleans.Runtime.OrleansException ex) when (ex.GetBaseException() is InvalidOperationException refused)
        {
            // A grain refused (e.g. a reading command's read-only state): its own words, not the runtime's wrapping.
            return Unusable(refused.Message);
        }
        catch (Exception ex)
        {
            Error.WriteLine($"fed: internal error ({ex.GetType().Name}): {ex.Message}");
            return ExitCodes.InternalError;
        }
    }

    /// <summary>Reads a whole input: a path, or "-" for standard input.</summary>
    /// <param name="raise">The option that raises the limit, named when the input is over it.</param>
    public static byte[] ReadInput(string path, long limitBytes, string? raise = null)
    {
        if (path == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = stdin.Read(chunk)) > 0)
            {
                if (buffer.Length + read > limitBytes)
                {
                    throw new IOException($"standard input exceeds the {limitBytes}-byte limit" + (raise is null ? string.Empty : $" (raise it with {raise})"));
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }

        return Federation.Storage.Files.BoundedFile.ReadAllBytes(path, limitBytes, raise);
    }
}
