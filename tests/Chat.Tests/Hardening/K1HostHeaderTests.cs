using Chat.Client;
using Chat.Tests.Files;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Hardening;

/// <summary>
/// A sender who sets <c>Host: attacker.example</c> on its own requests must not steer the links other members (or it)
/// receive: every link comes from <c>Chat:PublicUrl</c> or the node's own address.
/// </summary>
public sealed class K1HostHeaderTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("https://chat.example.com")]
    public async Task Links_never_take_the_host_of_a_request(string? publicUrl)
    {
        await using var server = publicUrl is null ? await TestServer.StartAsync() : await TestServer.StartAsync(("Chat:PublicUrl", publicUrl));
        string origin = publicUrl ?? server.BaseAddress.ToString().TrimEnd('/');
        await using var p = await server.PairAsync();
        using var hostile = new HttpClient { BaseAddress = server.BaseAddress };
        hostile.DefaultRequestHeaders.Host = "attacker.example";
        var alice = new ChatApi(hostile, p.AliceAuth.Token);

        byte[] png = FileKit.Png(40, 30);
        var ticket = await alice.UploadUrlAsync("cat.png", "image/png", png.Length);
        Assert.StartsWith(origin + "/", ticket.UploadUrl, StringComparison.Ordinal);
        using (var res = await server.PutAsync(server.BaseAddress + new Uri(ticket.UploadUrl).PathAndQuery.TrimStart('/'), png))
            res.AssertStatus(System.Net.HttpStatusCode.Created);

        var received = await p.SendAttachmentAsync(ticket.FileId);
        Assert.StartsWith(origin + "/", received.GetProperty("attachment").Str("url"), StringComparison.Ordinal);

        var history = await alice.HistoryAsync(p.ChatId);
        var attachment = Assert.Single(history.Messages).Attachment!;
        Assert.StartsWith(origin + "/", attachment.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("attacker.example", attachment.Url, StringComparison.OrdinalIgnoreCase);
    }
}
