using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Hardening;

/// <summary>Keeps every log line the server writes (any level), with its category, level and structured values.</summary>
internal sealed class K3LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);
    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue((category, LogLevel.Trace, "scope: " + Describe(state)));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, logLevel, formatter(state, exception) + " | " + Describe(state) + " " + exception));

        // The structured values too: a sink that writes properties (JSON console, OpenTelemetry) sees them.
        private static string Describe(object? state) =>
            state is IEnumerable<KeyValuePair<string, object?>> values ? string.Join("; ", values.Select(kv => $"{kv.Key}={kv.Value}")) : state?.ToString() ?? "";
    }
}
