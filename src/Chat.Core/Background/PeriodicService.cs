using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Chat.Core.Background;

/// <summary>
/// A hosted loop that runs one step per tick of a <see cref="PeriodicTimer"/> on the injected <see cref="TimeProvider"/>
/// (so a test's fake clock drives it). A step that throws is logged and the loop goes on with the next tick: an
/// exception escaping <see cref="BackgroundService.ExecuteAsync"/> would stop the whole host.
/// </summary>
public abstract partial class PeriodicService(TimeProvider time, ILogger log) : BackgroundService
{
    protected TimeProvider Time { get; } = time;
    protected ILogger Logger { get; } = log;

    /// <summary>Time between two steps; read once, when the loop starts.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>True to run a step at start-up, before the first tick.</summary>
    protected virtual bool StepAtStart => false;

    /// <summary>One pass of the loop's work.</summary>
    protected abstract Task StepAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Time);
        try
        {
            if (StepAtStart) await GuardedStepAsync(stoppingToken);
            while (await timer.WaitForNextTickAsync(stoppingToken)) await GuardedStepAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task GuardedStepAsync(CancellationToken ct)
    {
        try
        {
            await StepAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogStepFailed(Logger, GetType().Name, ex);
        }
    }

    [LoggerMessage(1401, LogLevel.Error, "A step of the background loop {Loop} failed; the loop goes on at the next tick")]
    private static partial void LogStepFailed(ILogger logger, string loop, Exception ex);
}
