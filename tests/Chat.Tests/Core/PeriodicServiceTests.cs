using System.Collections.Concurrent;
using System.Threading.Channels;
using Chat.Core.Background;
using Chat.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Tests.Core;

/// <summary>The loop shape of TypingService, IdleSweeper and FileCleanupService: one failing step stops nothing.</summary>
public sealed class PeriodicServiceTests
{
    private sealed class FailsFirstStep(TimeProvider time, ILogger<FailsFirstStep> log) : PeriodicService(time, log)
    {
        private int _steps;
        public Channel<int> Steps { get; } = Channel.CreateUnbounded<int>();
        protected override TimeSpan Interval => TimeSpan.FromSeconds(1);

        protected override Task StepAsync(CancellationToken ct)
        {
            int n = Interlocked.Increment(ref _steps);
            Steps.Writer.TryWrite(n);
            if (n == 1) throw new InvalidOperationException("the first step fails");
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_step_that_throws_is_logged_and_the_loop_and_the_host_go_on()
    {
        var clock = FakeClock.New();
        var errors = new ConcurrentQueue<string>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new Collector(errors));
        // The default, spelled out: an exception escaping a BackgroundService stops the host.
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<FailsFirstStep>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FailsFirstStep>());
        using var host = builder.Build();
        await host.StartAsync();
        var loop = host.Services.GetRequiredService<FailsFirstStep>();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        for (int expected = 1; expected <= 3; expected++) Assert.Equal(expected, await NextStepAsync(clock, loop.Steps.Reader, wait.Token));
        Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Contains(errors, e => e.Contains(nameof(FailsFirstStep), StringComparison.Ordinal) && e.Contains("the first step fails", StringComparison.Ordinal));
        Assert.Single(errors);
        await host.StopAsync();
    }

    /// <summary>
    /// Moves the clock a tick at a time until the loop reports a step. More than one tick may be needed: since .NET 10
    /// ExecuteAsync starts in the background, so the loop's timer may not exist yet when the test first moves the clock.
    /// </summary>
    private static async Task<int> NextStepAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, ChannelReader<int> steps, CancellationToken ct)
    {
        while (true)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var ready = steps.WaitToReadAsync(ct).AsTask();
            await Task.WhenAny(ready, Task.Delay(200, ct));
            if (steps.TryRead(out int step)) return step;
        }
    }

    private sealed class Collector(ConcurrentQueue<string> errors) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) errors.Enqueue($"{formatter(state, exception)} {exception?.Message}");
        }
    }
}
