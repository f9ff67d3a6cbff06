using Chat.Core;
using Chat.Core.Delivery;
using Chat.Core.Diagnostics;
using Chat.Core.Messaging;
using Chat.Core.Presence;
using Chat.Core.Reads;
using Microsoft.Extensions.Options;

namespace Chat.Server.Connections;

/// <summary>Everything a socket's frames are dispatched to, resolved once.</summary>
internal sealed record GatewayServices(
    MessagingService Messaging, DeliveryService Delivery, ReadService Reads, TypingService Typing,
    PresenceService Presence, ConnectionHub Hub, Chat.Core.Storage.IUserStore Users, IBackplane Backplane, ChatMetrics Metrics, IOptions<ChatOptions> Options,
    TimeProvider Time, MessageActions Actions);
