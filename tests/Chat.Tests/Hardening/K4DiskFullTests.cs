using System.Net;
using Chat.Client;
using Chat.Core.Storage;
using Chat.Storage.Sqlite;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, disk full: REST calls that hit a full disk answered 500 internal. Now 503 unavailable with a sentence,
/// /healthz says Degraded while writes fail, and the node recovers by itself when space returns.
/// </summary>
public sealed class K4DiskFullTests
{
    private static object Ask(int i) =>
        new { file_name = $"{new string('n', 200)}-{i}.bin", file_type = "application/octet-stream", file_size = 1 };

    /// <summary>
    /// The database is filled for real, without root or a small mount: <c>PRAGMA max_page_count</c> on the store's write
    /// connection caps the file at the pages it has, and SQLite then fails every write that needs a new page with
    /// SQLITE_FULL — the same error, through the same code path, as a disk with no space left. Raising the cap is
    /// "space returns".
    /// </summary>
    [Fact]
    public async Task A_full_database_answers_503_unavailable_healthz_degrades_and_recovers_when_space_returns()
    {
        await using var server = await TestServer.StartAsync(("Chat:Files:MaxPendingUploads", "0"));
        server.AllowErrors = true; // the failed writes are logged at Error, as an operator should see them
        var (_, a) = await server.NewUserAsync("alice");
        var store = server.Services.GetRequiredService<SqliteChatStore>();
        Assert.Equal("Healthy", await HealthAsync(server));

        // A cap below the file's size is taken as its size: the database is full from now on.
        long pages = await store.LimitPagesAsync(1, CancellationToken.None);
        // Each upload link writes a file row of ~250 bytes: within a few pages' worth, one needs a new page.
        ProtocolKit.Reply? full = null;
        for (int i = 0; i < 500 && full is null; i++)
        {
            var reply = await server.PostAsync("/api/files/upload-url", Ask(i), a.Token);
            if (reply.Status != HttpStatusCode.OK) full = reply;
        }
        Assert.NotNull(full);
        full.AssertError(HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("space", full.Body.Str("error"), StringComparison.Ordinal);
        Assert.Equal("Degraded", await HealthAsync(server));
        // Reads keep working; writes keep failing honestly.
        (await server.GetAsync("/api/users/me", a.Token)).AssertStatus(HttpStatusCode.OK);
        (await server.PostAsync("/api/files/upload-url", Ask(1000), a.Token)).AssertError(HttpStatusCode.ServiceUnavailable, "unavailable");

        // Space returns: the next write succeeds and clears the state, with nothing reset by hand.
        await store.LimitPagesAsync(pages + 10_000, CancellationToken.None);
        (await server.PostAsync("/api/files/upload-url", Ask(1001), a.Token)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Healthy", await HealthAsync(server));
    }

    /// <summary>
    /// The blob store's side: /dev/full is a real device whose every write fails with ENOSPC, so the exception the
    /// classifier sees is the one a full disk raises (not a constructed one).
    /// </summary>
    [Fact]
    public void A_real_ENOSPC_is_recognised_as_disk_full()
    {
        if (!File.Exists("/dev/full")) return; // Linux only
        var ex = Assert.ThrowsAny<IOException>(() =>
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0);
            full.Write(new byte[4096]);
            full.Flush(flushToDisk: true);
        });
        Assert.True(StorageSpace.IsDiskFull(ex), $"{ex.GetType().Name} HResult {ex.HResult}: {ex.Message}");
        Assert.True(StorageSpace.IsDiskFull(new StorageFullException("database", ex)));
        Assert.False(StorageSpace.IsDiskFull(new IOException("other")));
        Assert.False(StorageSpace.IsDiskFull(new FileNotFoundException()));
    }

    private static async Task<string> HealthAsync(TestServer server)
    {
        using var res = await server.Api().Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.Content.ReadAsStringAsync();
    }
}
