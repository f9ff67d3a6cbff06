using System.Net;
using Chat.Client;
using Chat.Core.Storage;
using Chat.Tests.Files;
using Chat.Tests.Infrastructure;
using Chat.Tests.Protocol;
using Chat.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Chat.Tests.Hardening;

/// <summary>
/// Issue 17, storage quotas: one user minted 2,000 upload links (98 GiB declared) in 15 s. Chat:Files:MaxPendingUploads
/// caps outstanding links (one more: 429 rate_limited with retry_after_ms), Chat:Files:UserQuotaBytes caps completed +
/// pending bytes (beyond: 413 file_too_large); both counted from the files table, so a restart forgets nothing.
/// </summary>
public sealed class K4FileQuotaTests
{
    private static object Ask(string name, long size) => new { file_name = name, file_type = "application/octet-stream", file_size = size };

    private static Task<FileUsage> UsageAsync(TestServer server, string userId) =>
        server.Services.GetRequiredService<IFileStore>().GetFileUsageAsync(userId, 0, CancellationToken.None);

    [Fact]
    public async Task Outstanding_upload_links_are_capped_until_one_completes_or_expires()
    {
        var clock = FakeClock.New();
        await using var server = await TestServer.StartWithAsync(new TestServerSetup(Time: clock), ("Chat:Files:MaxPendingUploads", "3"));
        var (alice, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        var tickets = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            var ok = await server.PostAsync("/api/files/upload-url", Ask($"f{i}.bin", 10), a.Token);
            ok.AssertStatus(HttpStatusCode.OK);
            tickets.Add(ok.Body.Str("upload_url")!);
            clock.Advance(TimeSpan.FromSeconds(10));
        }

        var refused = await server.PostAsync("/api/files/upload-url", Ask("f3.bin", 10), a.Token);
        refused.AssertError(HttpStatusCode.TooManyRequests, "rate_limited");
        // The first link expires 900 s after it was issued, 30 s ago.
        Assert.InRange(refused.Body.GetProperty("retry_after_ms").GetInt32(), 860_000, 870_000);
        Assert.Equal(3, (await UsageAsync(server, a.UserId)).PendingCount); // nothing created
        (await server.PostAsync("/api/files/upload-url", Ask("b.bin", 10), b.Token)).AssertStatus(HttpStatusCode.OK); // per user

        // Completing an upload frees its slot.
        using (var put = await server.PutAsync(tickets[0], new byte[10])) put.AssertStatus(HttpStatusCode.Created);
        (await server.PostAsync("/api/files/upload-url", Ask("f4.bin", 10), a.Token)).AssertStatus(HttpStatusCode.OK);
        (await server.PostAsync("/api/files/upload-url", Ask("f5.bin", 10), a.Token)).AssertError(HttpStatusCode.TooManyRequests, "rate_limited");

        // So does an expired link: it can no longer complete.
        clock.Advance(TimeSpan.FromSeconds(885)); // now 915 s after the first link: the second (issued at 10 s) expired too
        (await server.PostAsync("/api/files/upload-url", Ask("f6.bin", 10), a.Token)).AssertStatus(HttpStatusCode.OK);
        Assert.NotNull(alice);
    }

    [Fact]
    public async Task Stored_and_pending_bytes_count_against_the_user_quota()
    {
        await using var server = await TestServer.StartAsync(("Chat:Files:UserQuotaBytes", "1000"), ("Chat:Files:MaxPendingUploads", "0"));
        var (alice, a) = await server.NewUserAsync("alice");
        var (_, b) = await server.NewUserAsync("bob");
        await alice.UploadAsync("stored.bin", "application/octet-stream", new byte[600]); // complete: 600 stored

        var over = await server.PostAsync("/api/files/upload-url", Ask("big.bin", 401), a.Token);
        over.AssertError(HttpStatusCode.RequestEntityTooLarge, "file_too_large");
        Assert.Contains("quota", over.Body.Str("error"), StringComparison.Ordinal);
        Assert.Equal(new FileUsage(600, 0, 0, null), await UsageAsync(server, a.UserId)); // nothing created

        (await server.PostAsync("/api/files/upload-url", Ask("fits.bin", 400), a.Token)).AssertStatus(HttpStatusCode.OK); // pending 400: 1000 in all
        (await server.PostAsync("/api/files/upload-url", Ask("one.bin", 1), a.Token)).AssertError(HttpStatusCode.RequestEntityTooLarge, "file_too_large");
        (await server.PostAsync("/api/files/upload-url", Ask("empty.bin", 0), a.Token)).AssertStatus(HttpStatusCode.OK);
        (await server.PostAsync("/api/files/upload-url", Ask("bob.bin", 1000), b.Token)).AssertStatus(HttpStatusCode.OK); // per user
    }

    [PostgresFact]
    public async Task The_quota_survives_a_restart()
    {
        await using var schema = await PostgresTestDatabase.CreateSchemaAsync(maxPoolSize: 10);
        (string, string)[] settings = [("Chat:Storage", "postgres"), ("ConnectionStrings:Postgres", schema.ConnectionString),
            ("Chat:Files:UserQuotaBytes", "1000"), ("Chat:Files:MaxPendingUploads", "2")];
        string token;
        await using (var first = await TestServer.StartAsync(settings))
        {
            var (alice, a) = await first.NewUserAsync("alice");
            token = a.Token;
            await alice.UploadAsync("stored.bin", "application/octet-stream", new byte[900]);
            for (int i = 0; i < 2; i++)
                (await first.PostAsync("/api/files/upload-url", Ask($"p{i}.bin", 10), token)).AssertStatus(HttpStatusCode.OK);
        }
        await using var second = await TestServer.StartAsync(settings);
        (await second.PostAsync("/api/files/upload-url", Ask("p2.bin", 10), token)).AssertError(HttpStatusCode.TooManyRequests, "rate_limited");
        await using var again = await TestServer.StartAsync([.. settings.Where(s => s.Item1 != "Chat:Files:MaxPendingUploads"), ("Chat:Files:MaxPendingUploads", "0")]);
        (await again.PostAsync("/api/files/upload-url", Ask("p3.bin", 81), token)).AssertError(HttpStatusCode.RequestEntityTooLarge, "file_too_large");
        (await again.PostAsync("/api/files/upload-url", Ask("p3.bin", 80), token)).AssertStatus(HttpStatusCode.OK);
    }
}
