using Federation.Simulation;
using Spectre.Console;

namespace Federation.Cli;

/// <summary>
/// Progress of long runs (large simulations, benchmarks) on a terminal, drawn by Spectre.Console: a live bar with the
/// phase, its share done and the time taken, the run's own lines printed above it. In pipes and CI logs there is no
/// live display at all: only the lines the command prints anyway.
/// </summary>
internal static class TerminalProgress
{
    /// <summary>True when <paramref name="console"/> writes to an interactive terminal (not a pipe, a file or a test's writer).</summary>
    public static bool IsTerminal(CliConsole console) =>
        ReferenceEquals(console.Out, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>A Spectre console on standard error when that is an interactive terminal (standard output may be a pipe); else null.</summary>
    public static IAnsiConsole? ErrorTerminal(CliConsole console) =>
        ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) is { Profile.Capabilities.Interactive: true } stderr ? stderr : null
            : null;

    /// <summary>Runs <paramref name="body"/> under a progress bar; it gets a writer for its lines and a callback for its steps.</summary>
    public static T Run<T>(IAnsiConsole terminal, string title, Func<TextWriter, Action<SimulationStep>, T> body) =>
        terminal.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1);
                using var lines = new LineWriter(line => terminal.WriteLine(line));
                return body(lines, step =>
                {
                    task.Description = Markup.Escape($"{title}: {step.Phase}");
                    task.MaxValue = Math.Max(1, step.Total);
                    task.Value = Math.Min(step.Done, task.MaxValue);
                });
            });

    /// <summary>Runs an async <paramref name="body"/> under a status spinner showing its latest line; every line is also printed above it.</summary>
    public static Task<T> RunAsync<T>(IAnsiConsole terminal, string title, Func<TextWriter, Task<T>> body) =>
        terminal.Status().StartAsync(Markup.Escape(title), async context =>
        {
            using var lines = new LineWriter(line =>
            {
                terminal.WriteLine(line);
                context.Status(Markup.Escape($"{title}: {line.Trim()}"));
            });
            return await body(lines);
        });

    /// <summary>Hands each completed line to an action (the display prints it above the live area).</summary>
    private sealed class LineWriter(Action<string> onLine) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                onLine(_line.ToString());
                _line.Clear();
            }
            else if (value != '\r')
            {
                _line.Append(value);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _line.Length > 0)
            {
                onLine(_line.ToString());
                _line.Clear();
            }

            base.Dispose(disposing);
        }
    }
}
