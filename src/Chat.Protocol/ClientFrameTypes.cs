namespace Chat.Protocol;

/// <summary>
/// The <c>type</c> values of client → server frames (<see cref="ClientFrame.Type"/>, PROTOCOL.md "Client frames").
/// Server → client frames carry theirs on their records (<see cref="MessageFrame.Type"/> …).
/// </summary>
public static class ClientFrameTypes
{
    public const string NewMessage = "new_message";
    public const string Ack = "ack";
    public const string Read = "read";
    public const string TypingStart = "typing_start";
    public const string TypingStop = "typing_stop";
    public const string Heartbeat = "heartbeat";
    public const string SetStatus = "set_status";
    public const string PresenceSubscribe = "presence_subscribe";
    public const string PresenceUnsubscribe = "presence_unsubscribe";
    public const string EditMessage = "edit_message";
    public const string DeleteMessage = "delete_message";
    public const string React = "react";
    public const string Unreact = "unreact";
}
