from django.urls import path

from classroom import views, views_board

app_name = "classroom"

urlpatterns = [
    path("", views.class_list, name="class-list"),
    path("signup", views.signup, name="signup"),
    path("join", views.join, name="join"),
    path("root_password", views.root_password, name="root-password"),
    path("create", views.class_create, name="class-create"),
    path("admin-user", views.admin_user, name="admin-user"),
    path("admin-user/signin", views.admin_user_signin, name="admin-user-signin"),
    path("<str:class_id>", views.class_detail, name="class-detail"),
    path("<str:class_id>/students", views.add_students, name="add-students"),
    path("<str:class_id>/settings", views.class_settings, name="class-settings"),
    path("<str:class_id>/handout", views.handout, name="handout"),
    path("<str:class_id>/handout.csv", views.handout_csv, name="handout-csv"),
    path("<str:class_id>/handout/clear", views.handout_clear, name="handout-clear"),
    path("<str:class_id>/accounts/<str:account_id>/password", views.student_password, name="student-password"),
    path("<str:class_id>/reset", views.reset, name="reset"),
    path("<str:class_id>/board", views_board.board, name="board"),
    path("<str:class_id>/board/reset", views_board.board_reset, name="board-reset"),
    path("<str:class_id>/students/<str:account_id>", views_board.student_detail, name="student-detail"),
    path("<str:class_id>/events", views_board.class_events, name="class-events"),
    path("<str:class_id>/organization", views.organization, name="organization"),
    path("<str:class_id>/organization/units", views.unit_create, name="unit-create"),
    path("<str:class_id>/organization/units/<str:unit_id>/delete", views.unit_delete, name="unit-delete"),
    path("<str:class_id>/organization/move", views.account_move, name="account-move"),
    path("<str:class_id>/policies", views.policy_list, name="policy-list"),
    path("<str:class_id>/policies/create", views.policy_create, name="policy-create"),
    path("<str:class_id>/policies/validate", views.policy_validate, name="policy-validate"),
    path("<str:class_id>/policies/<str:policy_id>", views.policy_detail, name="policy-detail"),
    path("<str:class_id>/policies/<str:policy_id>/attach", views.policy_attach, name="policy-attach"),
    path("<str:class_id>/policies/<str:policy_id>/detach", views.policy_detach, name="policy-detach"),
    path("<str:class_id>/policies/<str:policy_id>/delete", views.policy_delete, name="policy-delete"),
]
