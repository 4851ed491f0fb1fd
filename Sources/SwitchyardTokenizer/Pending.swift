enum _Pending {}
