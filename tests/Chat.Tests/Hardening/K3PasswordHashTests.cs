using System.Buffers.Binary;
using Chat.Core.Auth;
using Chat.Core.Storage;
using Chat.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Chat.Tests.Hardening;

/// <summary>Password hashes: PBKDF2-HMAC-SHA512 at 210,000 iterations; an older, weaker hash is rewritten at login.</summary>
public sealed class K3PasswordHashTests
{
    /// <summary>Iterations recorded in an ASP.NET Core Identity v3 hash (0x01, prf, iterations, salt length — big-endian).</summary>
    private static int IterationsOf(string hash) => (int)BinaryPrimitives.ReadUInt32BigEndian(Convert.FromBase64String(hash).AsSpan(5, 4));

    [Fact]
    public async Task New_hashes_use_210000_iterations_and_a_100000_one_is_rewritten_at_the_next_login()
    {
        await using var server = await TestServer.StartAsync();
        var users = server.Services.GetRequiredService<IUserStore>();
        var (_, auth) = await server.NewUserAsync("hash");
        var user = (await users.GetUserAsync(auth.UserId, CancellationToken.None))!;
        Assert.Equal(AuthService.PasswordIterations, IterationsOf(user.PasswordHash));
        Assert.Equal(210_000, AuthService.PasswordIterations);

        // A hash as the previous release made it.
        var old = new PasswordHasher<UserRecord>(Options.Create(new PasswordHasherOptions { IterationCount = 100_000 }));
        string weak = old.HashPassword(user, "password123");
        Assert.True(await users.UpdatePasswordHashAsync(user.UserId, weak, CancellationToken.None));

        var wrong = await Assert.ThrowsAsync<Chat.Client.ChatApiException>(() => server.Api().LoginAsync(auth.Username, "not the password"));
        Assert.Equal("unauthorized", wrong.Code);
        Assert.Equal(weak, (await users.GetUserAsync(auth.UserId, CancellationToken.None))!.PasswordHash); // a failure changes nothing

        await server.Api().LoginAsync(auth.Username, "password123");
        string rewritten = (await users.GetUserAsync(auth.UserId, CancellationToken.None))!.PasswordHash;
        Assert.NotEqual(weak, rewritten);
        Assert.Equal(210_000, IterationsOf(rewritten));
        await server.Api().LoginAsync(auth.Username, "password123"); // and the new hash verifies
    }
}
