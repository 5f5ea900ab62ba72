from __future__ import annotations

from django.urls import path

from conversations import views

conversation_patterns = (
    [
        path("", views.conversations_page, name="list"),
        path("<int:pk>/", views.conversation_page, name="detail"),
        path("<int:pk>/messages/", views.conversation_messages, name="messages"),
        path("<int:pk>/reply/", views.conversation_reply_view, name="reply"),
        path("<int:pk>/take-over/", views.conversation_take_over_view, name="take_over"),
        path("<int:pk>/hand-back/", views.conversation_hand_back_view, name="hand_back"),
        path("<int:pk>/example/", views.conversation_example_view, name="example"),
    ],
    "conversations",
)
