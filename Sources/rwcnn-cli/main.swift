print("rwcnn")
