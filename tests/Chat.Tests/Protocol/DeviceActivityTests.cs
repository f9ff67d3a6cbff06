using Chat.Tests.Infrastructure;

namespace Chat.Tests.Protocol;

public sealed class DeviceActivityTests
{
    [Fact]
    public async Task Device_list_shows_online_devices_and_when_an_offline_one_was_last_connected()
    {
        await using var server = await TestServer.StartAsync();
        var (api, me) = await server.NewUserAsync();
        long createdAt = (await api.DevicesAsync()).Devices.Single().CreatedAt;

        var socket = await server.ConnectReadyAsync(me.Token);
        Assert.True((await api.DevicesAsync()).Devices.Single().Online);
        await Task.Delay(20); // so that "last connected" is measurably after creation
        await socket.DisposeAsync();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var device = (await api.DevicesAsync()).Devices.Single();
            if (!device.Online && device.LastActive > createdAt) break;
            Assert.True(DateTime.UtcNow < deadline, $"last_active stayed {device.LastActive} (created {createdAt}), online={device.Online}");
            await Task.Delay(50);
        }
    }
}
