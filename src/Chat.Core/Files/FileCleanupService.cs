using Chat.Core.Background;
using Chat.Core.Domain;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Chat.Core.Files;

/// <summary>
/// Deletes uploads never attached to a message after Chat:Limits:UnattachedFileHours (and, for the local store,
/// temp files left by a crash mid-upload). Safe on every node at once: the store deletes each record exactly once.
/// </summary>
public sealed partial class FileCleanupService(
    FileService files, IOptions<ChatOptions> chat, IOptions<FileServiceOptions> options, TimeProvider time, ILogger<FileCleanupService> log)
    : PeriodicService(time, log)
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(options.Value.CleanupIntervalMinutes);

    protected override bool StepAtStart => true;

    protected override async Task StepAsync(CancellationToken ct)
    {
        try
        {
            await SweepAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogSweepFailed(Logger, ex); // a store or blob failure is expected now and then: the next tick tries again
        }
    }

    /// <summary>One pass with the configured age.</summary>
    public Task<int> SweepAsync(CancellationToken ct)
    {
        var age = TimeSpan.FromHours(chat.Value.Limits.UnattachedFileHours);
        return SweepAsync(Time.NowMs() - (long)age.TotalMilliseconds, ct);
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
