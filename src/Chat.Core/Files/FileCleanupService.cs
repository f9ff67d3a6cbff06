using Chat.Core.Domain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Files;

/// <summary>
/// Deletes uploads never attached to a message after Chat:Limits:UnattachedFileHours (and, for the local store,
/// temp files left by a crash mid-upload). Safe on every node at once: the store deletes each record exactly once.
/// </summary>
public sealed partial class FileCleanupService(
    FileService files, IOptions<ChatOptions> chat, IOptions<FileServiceOptions> options, ILogger<FileCleanupService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMinutes(options.Value.CleanupIntervalMinutes);
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(log, ex); // the next tick tries again
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass with the configured age.</summary>
    public Task<int> SweepAsync(CancellationToken ct)
    {
        var age = TimeSpan.FromHours(chat.Value.Limits.UnattachedFileHours);
        return SweepAsync(Clock.NowMs() - (long)age.TotalMilliseconds, ct);
    }

    /// <summary>One pass deleting unattached uploads created before <paramref name="createdBefore"/> (Unix ms).</summary>
    public async Task<int> SweepAsync(long createdBefore, CancellationToken ct)
    {
        int n = await files.DeleteUnattachedAsync(createdBefore, ct);
        if (files.Blobs is LocalBlobStore local)
            local.DeleteStaleTempFiles(TimeSpan.FromHours(chat.Value.Limits.UnattachedFileHours));
        return n;
    }

    [LoggerMessage(4010, LogLevel.Warning, "File cleanup failed; retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception ex);
}
