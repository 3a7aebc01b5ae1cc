/* The messages the signaling thread and the media workers exchange (struct mcu_msg.type). */
#ifndef MCU_MSG_H
#define MCU_MSG_H

/* signaling -> worker */
enum mcu_cmd {
    CMD_PING = 1,        /* arg: sequence; the worker answers EV_PONG with the same arg */
    CMD_SESSION_CREATE,  /* ptr: struct session_params *, owned by the worker from now on */
    CMD_SESSION_CLOSE,   /* id: session id */
    CMD_SESSION_MUTE,    /* id: session id; arg: 1 muted (never enters the mix), 0 not */
    CMD_VIDEO_VIEW,      /* id: receiver session; arg: the session it sees as main, 0 = the dominant speaker */
    CMD_REC_START,       /* ptr: struct rec_cmd *: attach its recorder to the conference (created if needed) */
    CMD_REC_STOP,        /* ptr: struct rec_cmd *: detach the conference's recorder (EV_REC_STOPPED hands it back) */
    CMD_REC_VIEW,        /* ptr: struct rec_cmd *: what the recorder shows (view), 0 = the dominant speaker */
};

/* worker -> signaling */
enum mcu_event {
    EV_PONG = 100,       /* arg: the ping's sequence */
    EV_SESSION_STATE,    /* id: session; arg: enum session_state */
    EV_SESSION_CLOSED,   /* id: session; arg: enum session_close_reason */
    EV_DOMINANT_SPEAKER, /* id: the session now dominant in its conference */
    EV_LEVELS,           /* ptr: struct mix_levels * (media/session.h), every 500 ms per conference */
    EV_VIDEO_TRACKS,     /* ptr: struct video_tracks * (media/session.h), when a receiver's tracks change */
    EV_VIDEO_LAYERS,     /* id: publisher session; arg: bit i = simulcast layer i should run, bits 8..15 = layers */
    EV_REC_STOPPED,      /* ptr: struct rec *, detached: the signaling thread finishes and frees it */
};

#endif
