"""Serial hardware: transports chosen by URI, the frame codecs of two real protocols
(`visomat`: blood pressure, `kerong`: CU16 locker board) and the MQTT bridge."""
