from django.urls import path

from crm_core.inspections import views

app_name = "inspections"

urlpatterns = [
    path("", views.inspection_list, name="list"),
    path("calendar/", views.inspection_calendar, name="calendar"),
    path("my-day/", views.my_day, name="my_day"),
    path("board/", views.dispatch_board, name="board"),
    path("board/move/", views.board_move, name="board_move"),
    path("new/", views.inspection_create, name="create"),
    path("free-slots/", views.free_slots, name="free_slots"),
    path("customer-lookup/", views.customer_lookup, name="customer_lookup"),
    path("<int:pk>/", views.inspection_detail, name="detail"),
    path("<int:pk>/reschedule/", views.inspection_reschedule, name="reschedule"),
    path("<int:pk>/assign/", views.inspection_assign, name="assign"),
    path("<int:pk>/start/", views.inspection_start, name="start"),
    path("<int:pk>/cancel/", views.inspection_cancel, name="cancel"),
    path("<int:pk>/no-show/", views.inspection_no_show, name="no_show"),
    path("<int:pk>/result/", views.inspection_result, name="result"),
    path("<int:pk>/photos/", views.inspection_add_photo, name="add_photo"),
    path("<int:pk>/photos/<int:photo_pk>/", views.inspection_photo, name="photo"),
    path("<int:pk>/order/", views.inspection_create_order, name="create_order"),
]
